"""Cloning an app with its configuration (in the spirit of the seed's test_app_clone_config):
the copy's config equals the source's but for name/hostname, VMID and identities (MACs, SMBIOS
UUID, disk names); the source is untouched; a running container is copied from a temporary
snapshot that is removed, also on failure; a failed clone leaves no App row and no guest, and
one Sentry event."""

from __future__ import annotations

import re

import pytest

from app import jobs
from tests.conftest import log_in
from tests.deploys.conftest import POSTGRES_FORM, WORDPRESS_FORM, apps_in, cluster_names
from tests.deploys.test_quotas import set_quota


def deployed(client, app_id: str, form: dict) -> None:
    data = {**form, "request_key": "a" * 32}
    assert client.post(f"/apps/{app_id}/deploy", data=data).status_code == 302


def clone(client, source_id: int, name: str, node: str = "pve2", key: str = "b" * 32):
    data = {"name": name, "node": node, "request_key": key}
    return client.post(f"/my-apps/{source_id}/clone", data=data)


def comparable(config: dict, vmid: int) -> dict:
    """A guest's config without what makes it itself: name, MACs, SMBIOS UUID, disk names."""
    identity = ("name", "hostname", "smbios1", "vmgenid", "digest")
    out = {}
    for key, value in config.items():
        if key in identity:
            continue
        text = re.sub(r"([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}", "MAC", str(value))
        out[key] = text.replace(f"-{vmid}-", "-VMID-").replace(f"{vmid}/", "VMID/")
    return out


def test_a_vm_app_is_cloned_with_its_configuration_and_the_source_is_untouched(app, pve):
    client = log_in(app, "bob", "user")
    deployed(client, "wordpress", WORDPRESS_FORM)
    source = apps_in(app)[0]
    digest = pve.vm(source.vmid).digest()
    response = clone(client, source.id, "blog-copy")
    assert response.status_code == 302 and response.location == "/my-apps/2"
    source, copy = apps_in(app)
    assert copy.status == "running", copy.error
    assert (copy.catalog_id, copy.inputs, copy.source_id) == ("wordpress", source.inputs, source.id)
    assert (copy.cores, copy.memory, copy.disk) == (source.cores, source.memory, source.disk)
    assert copy.vmid != source.vmid and copy.ip_address != source.ip_address
    assert copy.outputs[0]["value"] == f"http://{copy.ip_address}:8080/"
    original, twin = pve.vm(source.vmid), pve.vm(copy.vmid)
    assert twin.name == "blog-copy" and twin.config["net0"] != original.config["net0"]
    assert comparable(twin.config, copy.vmid) == comparable(original.config, source.vmid)
    assert original.digest() == digest  # the source is untouched
    assert client.get(f"/guests/pve2/qemu/{copy.vmid}").status_code == 200  # bob's guest
    page = client.get("/my-apps/2").get_data(as_text=True)
    assert "Cloned from" in page and 'href="/my-apps/1"' in page


def test_a_running_container_is_cloned_from_a_temporary_snapshot(app, pve):
    client = log_in(app, "bob", "user")
    deployed(client, "postgresql", POSTGRES_FORM)
    source = apps_in(app)[0]
    digest = pve.ct(source.vmid).digest()
    assert clone(client, source.id, "site-copy", node=source.node).status_code == 302
    copy = apps_in(app)[1]
    assert copy.status == "running", copy.error
    steps = {s.name: s.status for s in copy.steps}
    assert steps["snapshot"] == steps["copy"] == steps["unsnapshot"] == "done"
    assert pve.ct(source.vmid).snapshots == {} and pve.ct(source.vmid).digest() == digest
    assert pve.ct(copy.vmid).config["hostname"] == "site-copy"
    twin, original = pve.ct(copy.vmid).config, pve.ct(source.vmid).config
    assert comparable(twin, copy.vmid) == comparable(original, source.vmid)


def test_a_clone_goes_to_the_sources_node_or_one_sharing_its_storage(app, pve):
    client = log_in(app, "bob", "user")
    deployed(client, "wordpress", WORDPRESS_FORM)
    page = client.get("/my-apps/1").get_data(as_text=True)
    assert '<option selected value="pve2">' in page and 'value="pve1"' not in page
    assert clone(client, 1, "elsewhere", node="pve1").status_code == 400
    assert len(apps_in(app)) == 1


def test_cloning_a_missing_or_others_app_is_404_and_a_taken_name_a_form_error(app, pve):
    bob = log_in(app, "bob", "user")
    assert clone(bob, 99, "x").status_code == 404
    deployed(bob, "wordpress", WORDPRESS_FORM)
    carol = log_in(app, "carol", "user")
    assert clone(carol, 1, "mine").status_code == 404
    taken = clone(bob, 1, "web")
    assert taken.status_code == 400
    assert "The name web is taken; choose another." in taken.get_data(as_text=True)
    assert len(apps_in(app)) == 1


@pytest.mark.parametrize("kind", ["vm", "container"])
def test_a_failed_clone_leaves_no_app_no_guest_no_snapshot_and_one_event(
    sentry, pve, kind, monkeypatch
):
    app, transport = sentry()
    client = log_in(app, "bob", "user")
    if kind == "vm":
        deployed(client, "wordpress", WORDPRESS_FORM)
    else:
        deployed(client, "postgresql", POSTGRES_FORM)
    source = apps_in(app)[0]
    before = cluster_names(pve)
    kind_path = "qemu" if kind == "vm" else "lxc"
    path = f"/nodes/{source.node}/{kind_path}/{source.vmid}/clone"
    pve.fail("POST", path, 500, "clone failed: disk full")
    run_app = jobs.run_app
    monkeypatch.setattr(jobs, "run_app", lambda app_id: None)  # queued, not yet taken
    assert clone(client, source.id, "the-copy", node=source.node).status_code == 302
    polled = client.get("/my-apps/2").get_data(as_text=True)
    assert f'hx-get="/my-apps/2/progress?start=0&amp;source={source.id}"' in polled
    with app.app_context():
        run_app(2)
    assert [a.id for a in apps_in(app)] == [source.id]  # no new App row
    assert cluster_names(pve) == before  # no orphaned guest
    guest = pve.vm(source.vmid) if kind == "vm" else pve.ct(source.vmid)
    assert guest.snapshots == {}  # the temporary snapshot is gone too
    events = [e for e in transport.events() if e["tags"].get("error_type") == "proxmox"]
    assert len(events) == 1 and events[0]["tags"]["deploy_step"] == "copy"
    page = client.get(f"/my-apps/{source.id}").get_data(as_text=True)
    assert "Cloning it to the-copy failed at “Clone the source" in page
    assert events[0]["event_id"] in page and "clone failed: disk full" in page
    # The clone's page was polling with its source: the poll lands there, where it says why.
    poll = client.get(f"/my-apps/2/progress?source={source.id}")
    assert poll.headers["HX-Redirect"] == f"/my-apps/{source.id}"
    assert client.get("/my-apps/2/progress").headers["HX-Redirect"] == "/my-apps"


def test_a_clone_over_the_quota_is_refused(app, pve):
    client = log_in(app, "bob", "user")
    deployed(client, "wordpress", WORDPRESS_FORM)
    set_quota(app, "bob", guests=1)
    refused = clone(client, 1, "blog-copy")
    assert refused.status_code == 400
    assert "This clone goes over your guests quota: 2 guests of 1 allowed" in refused.get_data(True)
    assert len(apps_in(app)) == 1


def test_a_clone_copies_and_counts_what_the_source_has_now(app, pve):
    client = log_in(app, "bob", "user")
    deployed(client, "wordpress", WORDPRESS_FORM)
    source = apps_in(app)[0]
    pve.vm(source.vmid).config["memory"] = "3072"  # changed since the deploy, in Proxmox
    assert "2 cores, 3072 MiB, 20 GiB" in client.get("/my-apps/1").get_data(as_text=True)
    set_quota(app, "bob", memory=6000)
    refused = clone(client, 1, "blog-copy")
    assert "6144 MiB of memory of 6000 allowed" in refused.get_data(True)
    set_quota(app, "bob", memory=None)
    assert clone(client, 1, "blog-copy").status_code == 302
    assert apps_in(app)[1].memory == 3072 == int(pve.vm(apps_in(app)[1].vmid).config["memory"])


def test_a_double_clicked_clone_leads_to_the_copy_being_made(app, pve):
    bob = log_in(app, "bob", "user")
    deployed(bob, "wordpress", WORDPRESS_FORM)
    first = clone(bob, 1, "blog-copy")
    second = clone(bob, 1, "blog-copy")  # the same form (its request key) again
    assert first.status_code == 302 and second.status_code == 302
    assert first.location == second.location and len(apps_in(app)) == 2

"""The deploy form: its choices come from the cluster; bad input comes back with a message
beside the field, and nothing is created anywhere (no App row, no guest, no Proxmox write)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import App
from app.proxmox.cluster import Node, Storage
from app.services.apps.placement import AUTOMATIC, DeployOptions
from tests.conftest import TOKEN_VALUE, log_in
from tests.deploys.conftest import CODE_SERVER_FORM, WORDPRESS_FORM, apps_in, cluster_names

BAD = {
    "name": ("Blog_1", "Use lower-case letters"),
    "cores": ("0", "WordPress needs at least 1 cores."),
    "memory": ("512", "WordPress needs at least 1024 MiB."),
    "disk": ("8", "WordPress needs at least 10 GiB."),
    "input_login_user": ("Root!", "The VM&#39;s cloud-init user."),
    "input_ssh_key": ("not a key", "Paste OpenSSH public keys"),
    "node": ("pve9", "Not a valid choice."),
}


def submit(client, app_id: str = "wordpress", **changes):
    data = {**WORDPRESS_FORM, "request_key": "c" * 32, **changes}
    return client.post(f"/apps/{app_id}/deploy", data=data)


@pytest.mark.parametrize("field", BAD)
def test_a_bad_field_comes_back_with_its_message_and_nothing_is_made(app, pve, field):
    client = log_in(app, "bob", "user")
    before = cluster_names(pve)
    value, message = BAD[field]
    response = submit(client, **{field: value})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert apps_in(app) == [] and cluster_names(pve) == before


def test_the_name_must_be_free_in_the_cluster_and_among_everyones_apps(app, pve):
    """One message whoever owns the name: it does not confirm a guest bob cannot see."""
    client = log_in(app, "bob", "user")
    taken = submit(client, name="web").get_data(as_text=True)  # a guest bob cannot see
    assert "The name web is taken; choose another." in taken and "guest named" not in taken
    assert submit(client).status_code == 302
    again = submit(client, request_key="d" * 32, name="blog").get_data(as_text=True)
    assert "The name blog is taken; choose another." in again  # the first deploy's guest
    carol = log_in(app, "carol", "user")
    # bob's deploy as it was before its guest existed: the name is taken all the same.
    pve.vms[:] = [vm for vm in pve.vms if vm.name != "blog"]
    with app.app_context():
        db.session.execute(db.update(App).values(status="deploying", vmid=None))
        db.session.commit()
    page = submit(carol, request_key="e" * 32, name="blog").get_data(as_text=True)
    assert "The name blog is taken; choose another." in page
    assert len(apps_in(app)) == 1


def test_resources_beyond_the_node_are_refused(app, pve):
    client = log_in(app, "bob", "user")
    page = submit(client, node="pve2", cores="64", memory="999999", disk="500")
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "pve2 has 4 cores." in text and "MiB free." in text and "GiB free." in text
    assert apps_in(app) == []


def test_a_storage_the_node_lacks_is_refused(app, pve):
    pve.storages["nfs-images"] = {"type": "nfs", "active": 1, "content": "images", "nodes": "pve1"}
    pve.add_vm(9101, "portal-debian-13", node="pve1", template=True)  # both nodes have it
    client = log_in(app, "bob", "user")
    assert '<option value="nfs-images">' in client.get("/apps/wordpress/deploy").get_data(True)
    text = submit(client, node="pve2", storage="nfs-images").get_data(as_text=True)
    assert "pve2 has no storage &#39;nfs-images&#39; for guest disks." in text
    assert apps_in(app) == []


def test_the_form_offers_only_nodes_with_the_template_and_their_disk_storages(app, pve):
    page = log_in(app, "bob", "user").get("/apps/wordpress/deploy").get_data(as_text=True)
    assert '<option value="pve2">' in page and '<option value="pve1">' not in page
    assert '<option value="local-lvm">' in page and '<option value="local">' not in page


def test_no_base_template_means_no_form_and_says_what_to_do(app, pve):
    pve.vms[:] = [vm for vm in pve.vms if vm.name != "portal-debian-13"]
    page = log_in(app, "bob", "user").get("/apps/wordpress/deploy").get_data(as_text=True)
    assert "No online node holds the VM template portal-debian-13." in page
    assert "An administrator can make the base template" in page
    assert '<form method="post" class="deploy' not in page


def test_the_oci_form_asks_only_what_a_container_takes(app, pve):
    page = log_in(app, "bob", "user").get("/apps/postgresql/deploy?runtime=oci").get_data(True)
    assert 'name="runtime" type="hidden" value="oci"' in page
    assert "input_postgres_user" in page and "input_login_user" not in page
    assert "input_postgres_password" not in page  # generated: never on a form
    assert 'href="/apps/postgresql/deploy?runtime=vm"' in page


def test_a_double_submitted_form_deploys_once(app, pve):
    client = log_in(app, "bob", "user")
    first, second = submit(client), submit(client)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(apps_in(app)) == 1


def test_deploy_again_fills_the_form_with_the_failed_apps_choices_but_no_secret(app, pve):
    client = log_in(app, "bob", "user")
    pve.fail("POST", "/status/start", error="start_failed")
    data = {**CODE_SERVER_FORM, "memory": "3072", "request_key": "c" * 32}
    client.post("/apps/code-server/deploy", data=data)
    page = client.get("/apps/code-server/deploy?again=1").get_data(as_text=True)
    assert 'value="editor"' in page and 'value="3072"' in page and 'value="dev"' in page
    assert CODE_SERVER_FORM["input_code_server_password"] not in page
    other = log_in(app, "carol", "user")
    assert other.get("/apps/code-server/deploy?again=1").status_code == 404


def node(name: str, free_mib: int, cores: int = 8) -> Node:
    return Node(name, "online", maxcpu=cores, maxmem=64 * 2**30, mem=64 * 2**30 - free_mib * 2**20)


def options(*nodes: Node) -> DeployOptions:
    disks = {
        n.name: [Storage("local-lvm", n.name, ("images",), True, size=100 * 2**30)] for n in nodes
    }
    return DeployOptions(None, "vm", None, None, list(nodes), disks, {})  # type: ignore[arg-type]


def test_automatic_picks_the_fitting_node_with_the_most_free_memory():
    choice = options(node("a", 4096), node("b", 16384), node("c", 8192, cores=2))
    assert choice.place(AUTOMATIC, "local-lvm", 2, 2048, 10).node == "b"
    assert choice.place(AUTOMATIC, "local-lvm", 4, 12000, 10).node == "b"
    assert choice.place(AUTOMATIC, "local-lvm", 16, 2048, 10).problems == {
        "cores": "No node fits: a has 8 cores."
    }
    assert "memory" in choice.place(AUTOMATIC, "local-lvm", 1, 20000, 10).problems


def test_a_read_only_token_offers_no_deploy(pve, make_app, login):
    pve.apitokens["portal@pve!portal"] = TOKEN_VALUE
    pve.grant("portal@pve!portal", "/", "VM.Audit", "Sys.Audit", "Datastore.Audit")
    client = make_app(PROXMOX_USER="portal@pve").test_client()
    login("bob", client=client)
    lacking = 'disabled title="The portal\'s Proxmox token lacks {}"'
    for path, privilege in (("/apps/postgresql", "VM.Clone"), ("/apps/wordpress", "VM.Clone"),
                            ("/apps/wordpress/deploy", "VM.Clone"),
                            ("/apps/templates", "VM.Clone")):  # fmt: skip
        page = client.get(path).data.decode()
        assert lacking.format(privilege) in page, path
        assert '<button type="submit" class="primary">Deploy</button>' not in page
        assert 'href="/apps/wordpress/deploy?runtime=vm"' not in page


@pytest.mark.parametrize("value", ["p\u0085ssword-1", "pass\u2028word-1", "pass\u2029word-1"])
def test_secrets_with_unicode_line_breaks_are_refused_like_other_controls(app, pve, value):
    client = log_in(app, "bob", "user")
    data = {**CODE_SERVER_FORM, "input_code_server_password": value, "request_key": "c" * 32}
    response = client.post("/apps/code-server/deploy", data=data)
    assert response.status_code == 400
    assert "Remove the control characters" in response.get_data(as_text=True)
    assert apps_in(app) == []


def test_too_many_cores_says_at_most(app, pve):
    client = log_in(app, "bob", "user")
    page = submit(client, cores="99999999999999999999").get_data(as_text=True)
    assert "At most 2147483647 cores." in page and "needs at least" not in page

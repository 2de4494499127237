"""Updating an app that runs as an OCI container: a new container from the new image takes a
copy of the old one's data volume; the old one is kept, stopped, to roll back to, and goes
when its days are up or with the app."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.models import App, utcnow
from app.proxmox import get_client
from app.services.apps.deploy import updates
from tests.conftest import assert_no_secrets, log_in
from tests.deploys.conftest import POSTGRES_FORM, apps_in

OLD = {**POSTGRES_FORM, "version": "18.5", "request_key": "a" * 32}
UPDATE = {"request_key": "b" * 32}


def env_of(ct) -> dict[str, str]:
    return dict(item.partition("=")[::2] for item in str(ct.config["env"]).split("\0"))


def deployed_old(app, pve, name: str = "db"):
    client = log_in(app, "bob", "user")
    assert client.post("/apps/postgresql/deploy", data={**OLD, "name": name}).status_code == 302
    [row] = apps_in(app)
    assert row.status == "running" and row.version == "18.5", row.error
    return client, row, pve.ct(row.vmid)


def test_an_update_makes_a_new_container_with_the_old_ones_data(app, pve):
    client, old_row, old = deployed_old(app, pve)
    data_volume = old.config["mp0"]
    password = env_of(old)["POSTGRES_PASSWORD"]
    mac = old.config["net0"].split("hwaddr=")[1].split(",")[0]
    form = {"schedule": "daily", "keep": "5", "storage": "local", "request_key": "c" * 32}
    assert client.post("/my-apps/1/backups", data=form).status_code == 302
    assert "Update to 18.6" in client.get("/my-apps/1").get_data(as_text=True)
    assert client.post("/my-apps/1/update", data=UPDATE).status_code == 302
    [row] = apps_in(app)
    assert row.status == "running" and row.version == "18.6", row.update_note
    assert [s.name for s in row.steps] == [
        "pull", "stop_previous", "reserve", "create_new", "copy_data", "move_data", "drop_copy",
        "configure", "environment", "start", "wait", "probe", "finish_update",
    ]  # fmt: skip
    assert {s.status for s in row.steps} == {"done"}, [(s.name, s.detail) for s in row.steps]
    new = pve.ct(row.vmid)
    assert row.previous_vmid == old_row.vmid != row.vmid and row.data_copy_vmid is None
    assert new.status == "running" and old.status == "stopped"
    assert old.config["mp0"] == data_volume  # the way back is untouched
    moved = new.config["mp0"]  # a copy of the data, now the new container's own
    assert moved.startswith(f"local-lvm:vm-{row.vmid}-disk-") and "mp=/var/lib/postgresql" in moved
    assert new.demo_data_from not in (old_row.vmid, row.vmid, None)  # from the temporary copy
    assert pve.ct(new.demo_data_from) is None  # which is gone
    assert env_of(new)["POSTGRES_PASSWORD"] == password  # the generated secret is kept
    assert f"hwaddr={mac}" in new.config["net0"]  # so DHCP gives it the same address
    assert pve.backup_jobs["portal-app-1"]["vmid"] == str(row.vmid)  # backups follow
    expires = row.snapshot_expires.replace(tzinfo=None) - utcnow().replace(tzinfo=None)
    assert timedelta(days=6, hours=23) < expires <= timedelta(days=7)
    page = client.get("/my-apps/1").get_data(as_text=True)
    assert "Updated from 18.5 to 18.6." in page and f"CT {old_row.vmid} kept" in page


def test_an_update_whose_app_does_not_answer_goes_back_to_the_old_container(sentry, pve):
    app, transport = sentry()
    client, old_row, old = deployed_old(app, pve, name="db-broken")
    password = env_of(old)["POSTGRES_PASSWORD"]
    client.post("/my-apps/1/update", data=UPDATE)
    [row] = apps_in(app)
    assert row.status == "running" and row.version == "18.5"
    assert row.update_note.startswith("Rolled back to 18.5: The app did not answer on port 5432")
    assert [(s.name, s.status) for s in row.steps][-5:] == [
        ("probe", "failed"), ("finish_update", "pending"), ("rollback", "done"), ("start", "done"),
        ("wait", "done"),
    ]  # fmt: skip
    assert row.vmid == old_row.vmid and row.previous_vmid is None and row.data_copy_vmid is None
    assert old.status == "running" and "mp0" in old.config
    assert [ct.vmid for ct in pve.cts] == [old_row.vmid]  # the new one and the copy are gone
    [event] = transport.events()
    assert event["tags"]["deploy_step"] == "probe" and row.error_reference == event["event_id"]
    assert_no_secrets(transport.payloads(), [password])
    assert "Update to 18.6" in client.get("/my-apps/1").get_data(as_text=True)  # try again


def test_the_old_container_goes_when_its_days_are_up_or_with_the_app(app, pve):
    client, old_row, _ = deployed_old(app, pve)
    client.post("/my-apps/1/update", data=UPDATE)
    with app.app_context():
        assert updates.expire_snapshots(get_client()) == 0  # not yet
        db.session.get(App, 1).snapshot_expires = utcnow() - timedelta(minutes=1)
        db.session.commit()
        assert updates.expire_snapshots(get_client()) == 1
    [row] = apps_in(app)
    assert pve.ct(old_row.vmid) is None and pve.ct(row.vmid) is not None
    assert row.previous_vmid is None and row.snapshot_expires is None

    with app.app_context():  # a kept container goes with its app
        kept = db.session.get(App, 1)
        kept.version = "18.5"
        db.session.commit()
    client.post("/my-apps/1/update", data={"request_key": "d" * 32})
    [row] = apps_in(app)
    assert row.previous_vmid is not None and pve.ct(row.previous_vmid) is not None
    assert client.post("/my-apps/1/delete", data={"request_key": "e" * 32}).status_code == 302
    assert [ct.vmid for ct in pve.cts] == [] and apps_in(app)[0].status == "deleted", apps_in(app)[
        0
    ].error

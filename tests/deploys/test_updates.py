"""Updating a Compose app in its VM to the catalog's newest version: a snapshot first, the new
files, pull, recreate, health; a health check that fails rolls the VM back to the snapshot on
its own (one Sentry event); the snapshot of an update that worked expires."""

from __future__ import annotations

import json
from datetime import timedelta

from app.extensions import db
from app.models import App, utcnow
from app.proxmox import get_client
from app.services.apps.deploy import updates
from app.services.apps.deploy.compose_vm import COMPOSE_FILE, ENV_FILE, compose, parse_env
from tests.conftest import assert_no_secrets, log_in
from tests.deploys.conftest import apps_in

OLD = {
    "runtime": "vm", "version": "18.5", "name": "db", "node": "auto", "storage": "local-lvm",
    "cores": "1", "memory": "1024", "disk": "8", "input_postgres_user": "app",
    "input_login_user": "debian", "request_key": "a" * 32,
}  # fmt: skip
PS = " ".join(compose("ps", "--all", "--format", "json"))


def deployed_old(app, pve):
    client = log_in(app, "bob", "user")
    assert client.post("/apps/postgresql/deploy", data=OLD).status_code == 302
    [row] = apps_in(app)
    assert row.status == "running" and row.version == "18.5", row.error
    assert row.images == ["postgres:18.5"]
    return client, row, pve.vm(row.vmid)


def written(vm, path: str) -> str:
    """The last content the portal wrote to path in the VM."""
    return [a["content"] for c, a in vm.agent_requests if c == "file-write" and a["file"] == path][
        -1
    ]


def test_an_update_snapshots_pulls_recreates_and_keeps_the_apps_secrets(app, pve):
    client, row, vm = deployed_old(app, pve)
    password = parse_env(written(vm, ENV_FILE))["POSTGRES_PASSWORD"]
    page = client.get("/my-apps/1").get_data(as_text=True)
    assert 'href="/my-apps/1/update"' in page and "Update to 18.6" in page
    form = client.get("/my-apps/1/update").get_data(as_text=True)
    assert "<code>postgres:18.5</code></td><td><code>postgres:18.6</code>" in form
    response = client.post("/my-apps/1/update", data={"request_key": "b" * 32})
    assert response.status_code == 302 and response.location == "/my-apps/1"
    [row] = apps_in(app)
    assert row.status == "running" and row.version == "18.6", row.update_note
    assert row.update_note == "Updated from 18.5 to 18.6." and row.images == ["postgres:18.6"]
    assert [s.name for s in row.steps] == [
        "update_snapshot", "files", "compose_pull", "up", "health", "finish_update"
    ]  # fmt: skip
    assert {s.status for s in row.steps} == {"done"}
    assert row.update_snapshot in pve.vm(row.vmid).snapshots
    assert "vmstate" not in pve.vm(row.vmid).snapshots[row.update_snapshot]  # disks only
    expires = row.snapshot_expires.replace(tzinfo=None) - utcnow().replace(tzinfo=None)
    assert timedelta(days=6, hours=23) < expires <= timedelta(days=7)
    assert "image: postgres:18.6" in written(vm, COMPOSE_FILE)
    assert parse_env(written(vm, ENV_FILE))["POSTGRES_PASSWORD"] == password  # kept
    commands = [" ".join(a["command"]) for c, a in vm.agent_requests if c == "exec"]
    assert commands.index(" ".join(compose("pull", "--quiet"))) < len(commands) - 1
    assert "running, version 18.6" in client.get("/my-apps/1").get_data(as_text=True).replace(
        "Running at " + row.ip_address, "running"
    )
    assert client.get("/my-apps/1/update").location == "/my-apps/1"  # nothing newer now
    assert log_in(app, "carol", "user").get("/my-apps/1/update").status_code == 404


def test_an_update_whose_health_fails_rolls_back_on_its_own(sentry, pve):
    app, transport = sentry()
    client, row, vm = deployed_old(app, pve)
    password = parse_env(written(vm, ENV_FILE))["POSTGRES_PASSWORD"]
    unhealthy = {"Service": "postgres", "State": "running", "Health": "unhealthy"}
    vm.agent.setdefault("exec", {})[PS] = {"exitcode": 0, "out-data": json.dumps(unhealthy)}
    client.post("/my-apps/1/update", data={"request_key": "b" * 32})
    [row] = apps_in(app)
    assert row.status == "running" and row.version == "18.5"
    assert row.update_note.startswith("Rolled back to 18.5: The app was not healthy within 2 s")
    assert [(s.name, s.status) for s in row.steps][-4:] == [
        ("health", "failed"), ("finish_update", "pending"), ("rollback", "done"),
        ("start", "done"),
    ]  # fmt: skip
    vm = pve.vm(row.vmid)
    assert vm.status == "running" and vm.config["parent"] == row.update_snapshot
    assert "image: postgres:18.5" in vm.demo_disk.files[COMPOSE_FILE]  # the disk came back
    [event] = transport.events()
    assert event["tags"]["deploy_step"] == "health" and event["tags"]["error_type"] == "app_service"
    assert row.error_reference == event["event_id"]
    assert_no_secrets(transport.payloads(), [password])
    page = client.get("/my-apps/1").get_data(as_text=True)
    assert "Rolled back to 18.5" in page and row.error_reference in page
    assert "Update to 18.6" in page  # it can be tried again


def test_the_snapshot_of_an_update_goes_when_its_days_are_up(app, pve):
    client, row, _ = deployed_old(app, pve)
    client.post("/my-apps/1/update", data={"request_key": "b" * 32})
    [row] = apps_in(app)
    name = row.update_snapshot
    with app.app_context():
        assert updates.expire_snapshots(get_client()) == 0  # not yet
        db.session.get(App, row.id).snapshot_expires = utcnow() - timedelta(minutes=1)
        db.session.commit()
        assert updates.expire_snapshots(get_client()) == 1
    [row] = apps_in(app)
    assert name not in pve.vm(row.vmid).snapshots
    assert row.update_snapshot is None and row.snapshot_expires is None


def test_an_admin_updates_every_app_of_an_entry_at_once(app, pve):
    bob = log_in(app, "bob", "user")
    for number in range(2):
        data = {**OLD, "name": f"db{number}", "request_key": f"{number}" * 32}
        assert bob.post("/apps/postgresql/deploy", data=data).status_code == 302
    admin = log_in(app, "alice", "admin")
    page = admin.get("/apps/postgresql").get_data(as_text=True)
    assert "2 apps of PostgreSQL run an older version (db0, db1)" in page
    assert "Update all to 18.6" not in bob.get("/apps/postgresql").get_data(as_text=True)
    response = admin.post("/apps/postgresql/update-all", data={"request_key": "c" * 32})
    assert "Updating 2 apps to 18.6" in admin.get(response.location).get_data(as_text=True)
    assert [(row.version, row.status) for row in apps_in(app)] == [("18.6", "running")] * 2
    assert all(row.update_snapshot in pve.vm(row.vmid).snapshots for row in apps_in(app))
    assert bob.post("/apps/postgresql/update-all", data={"request_key": "d" * 32}).status_code in (
        403,
        404,
    )

"""What Proxmox VE refuses or breaks: locks, offline nodes, expired tickets. Nothing is recorded
as done when PVE says no, and the page says PVE's reason."""

import time

import pytest

from app.extensions import db
from app.models import AuditEntry
from tests.conftest import log_in
from tests.guests.conftest import last_task, press, url


def audit_entries(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))
        return [(e.action, e.result, e.detail or "") for e in entries]


def test_config_lock_is_refused_with_pves_reason(app, guests, admin_client):
    guests.fail("POST", "/nodes/pve1/qemu/101/status/start", error="config_lock_timeout")
    response = press(admin_client, url("qemu", 101, suffix="/power/start"))
    assert response.status_code == 302 and response.location.endswith(url("qemu", 101))
    page = admin_client.get(response.location).data.decode()
    assert "Proxmox VE refused to start web" in page and "got timeout" in page
    assert last_task(app) is None
    assert audit_entries(app) == [
        ("start", "refused", "can't lock file '/var/lock/qemu-server/lock-101.conf' - got timeout")
    ]


@pytest.mark.parametrize(("kind", "vmid", "suffix", "data", "error"), [
    ("qemu", 101, "/power/start", {}, "VM is locked (backup)"),
    ("lxc", 201, "/snapshots", {"name": "s1"}, "CT is locked (backup)"),
])  # fmt: skip
def test_backup_lock_fails_the_task(app, guests, admin_client, kind, vmid, suffix, data, error):
    # PVE accepts these requests and checks the lock inside the task: the task ends in error.
    guests.snapshot_lock(vmid, "backup")
    assert "🔒 backup" in admin_client.get(url(kind, vmid)).data.decode()
    response = press(admin_client, url(kind, vmid, suffix=suffix), **data)
    assert f"TASK ERROR: {error}" in admin_client.get(response.location).data.decode()
    task = last_task(app)
    assert task.failed and task.exit_status == error
    assert audit_entries(app)[0][1] == "started"


def test_offline_node(app, guests, admin_client):
    guests.set_node_offline("pve2")
    guests.slow_network(2, node="pve2")  # a real cluster may take long to say it cannot reach it
    started = time.monotonic()
    page = admin_client.get(url("qemu", 301, "pve2"))
    assert page.status_code == 200 and "Node pve2 is offline" in page.data.decode()
    assert time.monotonic() - started < 1.5  # its reads, which cannot answer, are not waited for
    guests.slow_network(0, node="pve2")
    response = press(admin_client, url("qemu", 301, "pve2", "/power/shutdown"))
    assert "No route to host" in admin_client.get(response.location).data.decode()
    assert last_task(app) is None and audit_entries(app)[0][:2] == ("shutdown", "refused")


def test_expired_ticket_is_renewed(make_app, guests):
    app = make_app(PROXMOX_TOKEN_NAME=None, PROXMOX_TOKEN_VALUE=None, PROXMOX_PASSWORD="secret")
    client = log_in(app)
    assert client.get(url("qemu", 101)).status_code == 200
    guests.revoke_tickets()
    response = press(client, url("qemu", 101, suffix="/power/start"))
    assert "Finished: OK" in client.get(response.location).data.decode()
    assert guests.guest(101).status == "running"


def test_missing_privilege_is_refused_with_pves_reason(app, guests, admin_client):
    guests.fail("POST", "/nodes/pve1/lxc/201/status/reboot", error="permission_denied")
    response = press(admin_client, url("lxc", 201, suffix="/power/reboot"))
    page = admin_client.get(response.location).data.decode()
    assert (
        "Proxmox VE refused to reboot db: Permission check failed (/vms/201, VM.PowerMgmt)" in page
    )
    assert last_task(app) is None and audit_entries(app)[0][:2] == ("reboot", "refused")

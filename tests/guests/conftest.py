"""Guests in fakepve for the guest-management tests, and helpers that press the buttons."""

from uuid import uuid4

import pytest

from app.extensions import db
from app.models import Task
from app.services import users as user_service

VM_CONFIG = {
    "cores": 2, "memory": 2048, "scsi0": "local-lvm:vm-101-disk-0,size=32G",
    "net0": "virtio=AA:BB:CC:DD:EE:01,bridge=vmbr0", "tags": "prod;web",
    "description": "The web server",
}  # fmt: skip
CT_CONFIG = {
    "cores": 1, "memory": 512, "rootfs": "local-lvm:subvol-201-disk-0,size=8G",
    "net0": "name=eth0,bridge=vmbr0,ip=dhcp",
}  # fmt: skip


@pytest.fixture
def guests(pve):
    """VM 101 `web` (stopped) and CT 201 `db` (running) on pve1; VM 301 `other` on pve2."""
    pve.add_node("pve2")
    pve.add_vm(101, "web", node="pve1", status="stopped", config=dict(VM_CONFIG))
    pve.add_ct(201, "db", node="pve1", status="running", config=dict(CT_CONFIG))
    pve.add_vm(301, "other", node="pve2", status="running", config={"cores": 1, "memory": 512})
    return pve


def url(kind: str, vmid: int, node: str = "pve1", suffix: str = "") -> str:
    """The guest page (or one of its action URLs)."""
    return f"/guests/{node}/{kind}/{vmid}{suffix}"


def press(client, path: str, key: str | None = None, **data):
    """POST a guest form as the browser would (with a fresh request key unless given)."""
    return client.post(path, data={"request_key": key or uuid4().hex, **data})


def last_task(app) -> Task | None:
    with app.app_context():
        task = db.session.scalars(db.select(Task).order_by(Task.id.desc())).first()
        db.session.expunge_all()
        return task


def pve_calls(pve, method: str | None = None) -> list[tuple[str, str]]:
    """(method, path) of each request fakepve received, without the /api2/json prefix."""
    return [(m, p.removeprefix("/api2/json")) for m, p, _ in pve.requests if method in (None, m)]


@pytest.fixture
def assign(app):
    """assign(vmid, username): give a guest (looked up in fakepve) to a user."""
    from app.services import ownership

    def do(vmid: int, username: str) -> None:
        with app.app_context():
            (guest,) = ownership.find_by_vmids([vmid])
            ownership.assign(guest, user_service.find_by_username(username))
            db.session.commit()

    return do

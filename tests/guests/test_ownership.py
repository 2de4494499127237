"""Admins see and act on every guest; a user only on the guests assigned to them."""

import re
import time

import pytest

from app.extensions import db
from app.models import User
from tests.conftest import ADMIN_PASSWORD, log_in, signed_in
from tests.guests.conftest import last_task, press, pve_calls, url


@pytest.fixture
def bob(app, guests, assign):
    """User bob owns CT 201; user carol owns VM 101."""
    bob = log_in(app, "bob", "user")
    log_in(app, "carol", "user")
    assign(201, "bob")
    assign(101, "carol")
    return bob


@pytest.fixture
def admin(app, bob):
    return log_in(app, "alice", "admin")


def rows(page: bytes) -> set[int]:
    return {int(v) for v in re.findall(rb'<tr data-vmid="(\d+)">', page)}


def test_user_sees_only_their_guests(bob):
    assert rows(bob.get("/").data) == {201}
    assert rows(bob.get("/nodes/pve1").data) == {201}
    assert bob.get(url("lxc", 201)).status_code == 200


@pytest.mark.parametrize("path", [
    url("qemu", 101), url("qemu", 301, "pve2"), url("qemu", 101, suffix="/backups"),
])  # fmt: skip
def test_other_guests_are_404_by_direct_url(bob, path):
    assert bob.get(path).status_code == 404


@pytest.mark.parametrize(("suffix", "data"), [
    ("/power/start", {}), ("/delete", {"confirm_name": "web"}), ("/snapshots", {"name": "x"}),
    ("/snapshots/x/rollback", {}), ("/backups", {"storage": "local", "mode": "stop",
                                                  "compress": "zstd"}),
])  # fmt: skip
def test_user_cannot_act_on_another_users_guest(app, bob, guests, suffix, data):
    guests.requests.clear()
    assert press(bob, url("qemu", 101, suffix=suffix), **data).status_code == 404
    assert pve_calls(guests, "POST") == [] and pve_calls(guests, "DELETE") == []
    assert last_task(app) is None


def test_user_cannot_read_tasks_of_another_users_guest(app, bob, admin):
    press(admin, url("qemu", 101, suffix="/power/start"))
    task = last_task(app)
    assert bob.get(f"/tasks/{task.id}").status_code == 404
    assert bob.get(f"/tasks/{task.id}/progress").status_code == 404
    assert f"/tasks/{task.id}" not in bob.get("/tasks").data.decode()
    press(bob, url("lxc", 201, suffix="/power/reboot"))
    own = last_task(app)
    assert bob.get(f"/tasks/{own.id}").status_code == 200
    assert f"/tasks/{own.id}" in bob.get("/tasks").data.decode()


def test_admin_assigns_and_unassigns(app, bob, admin):
    with app.app_context():
        bob_id = db.session.scalar(db.select(User.id).where(User.username == "bob"))
    page = admin.get(url("qemu", 101)).data.decode()
    assert "carol" in page and "Assign" in page
    admin.post(url("qemu", 101, suffix="/owner"), data={"user_id": bob_id})
    assert rows(bob.get("/").data) == {101, 201}
    admin.post(url("qemu", 101, suffix="/owner"), data={"user_id": 0})
    assert rows(bob.get("/").data) == {201}
    assert "/owner" not in bob.get(url("lxc", 201)).data.decode()
    assert bob.post(url("lxc", 201, suffix="/owner"), data={"user_id": bob_id}).status_code == 403


def test_deleting_a_guest_ends_its_assignment(app, bob, guests):
    bob.get(press(bob, url("lxc", 201, suffix="/power/stop")).location)
    bob.get(press(bob, url("lxc", 201, suffix="/delete"), confirm_name="db").location)
    guests.add_ct(201, "someone-elses", node="pve1")  # the VMID is free again and reused
    assert rows(bob.get("/").data) == set()
    assert bob.get(url("lxc", 201)).status_code == 404


def delete_in_proxmox(app, kind: str, vmid: int, node: str = "pve1") -> None:
    """Delete a guest through PVE's API, as Proxmox's own UI would: the portal sees no task."""
    from app.proxmox import get_client

    with app.app_context():
        client = get_client()
        upid = client.request("DELETE", f"nodes/{node}/{kind}/{vmid}", purge=1)
        for _ in range(100):
            if client.get(f"nodes/{node}/tasks/{upid}/status")["status"] == "stopped":
                return
            time.sleep(0.05)
    raise AssertionError("the delete task did not finish")


def test_a_vmid_reused_behind_the_portals_back_is_not_the_former_owners(app, bob, admin, guests):
    carol = signed_in(app, "carol", ADMIN_PASSWORD)
    assert rows(carol.get("/").data) == {101}
    delete_in_proxmox(app, "qemu", 101)  # in Proxmox's UI, or while the portal was down
    guests.add_vm(101, "someone-elses", node="pve1", status="stopped")
    assert rows(carol.get("/").data) == set()
    assert carol.get(url("qemu", 101)).status_code == 404
    assert press(carol, url("qemu", 101, suffix="/power/start")).status_code == 404
    # An admin's task on the new guest stays out of carol's task list.
    press(admin, url("qemu", 101, suffix="/power/start"))
    task = last_task(app)
    assert carol.get(f"/tasks/{task.id}").status_code == 404
    assert f"/tasks/{task.id}" not in carol.get("/tasks").data.decode()
    assert "nobody" in admin.get(url("qemu", 101)).data.decode()  # not carol's either


def test_users_keep_seeing_their_own_tasks_after_the_guest_is_gone(app, bob, guests):
    bob.get(press(bob, url("lxc", 201, suffix="/power/stop")).location)
    stop = last_task(app)
    bob.get(press(bob, url("lxc", 201, suffix="/delete"), confirm_name="db").location)
    delete = last_task(app)
    assert delete.action == "delete" and delete.succeeded
    listing = bob.get("/tasks").data.decode()
    for task in (stop, delete):
        assert bob.get(f"/tasks/{task.id}").status_code == 200
        assert f"/tasks/{task.id}" in listing

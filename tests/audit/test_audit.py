"""The audit log: written with each action; admins filter and page it; users see their own."""

import re
from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import AuditEntry, User
from tests.conftest import log_in
from tests.guests.conftest import press, url


def entries_on(page: bytes) -> list[str]:
    """The target column of each row."""
    return re.findall(r"<td>((?:qemu|lxc)/\d+ on \w+)", page.decode())


def test_actions_are_logged_with_who_where_and_task(app, guests):
    admin = log_in(app, "alice", "admin")
    admin.get(press(admin, url("qemu", 101, suffix="/power/start")).location)  # ends the task
    press(admin, url("lxc", 201, suffix="/snapshots"), name="s1")  # nobody watches this one
    page = admin.get("/audit").data.decode()
    assert entries_on(page.encode()) == ["lxc/201 on pve1", "qemu/101 on pve1"]  # newest first
    assert "alice" in page and "127.0.0.1" in page and "snapshot s1" in page
    assert '<a href="/tasks/1">OK</a>' in page and '<a href="/tasks/2">running</a>' in page


def seed(app, count: int) -> None:
    """count entries by alice and bob, a day apart, alternating start/stop on VMs 1..count."""
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(db.select(User))}
        now = datetime.now(UTC)
        for i in range(count):
            user = users["alice" if i % 2 else "bob"]
            db.session.add(AuditEntry(
                user_id=user.id, username=user.username, client_address="10.0.0.9",
                action="stop" if i % 2 else "start", target=f"qemu/{i + 1} on pve1",
                result="started", created_at=now - timedelta(days=i),
            ))  # fmt: skip
        db.session.commit()


def test_admin_filters_and_pages(app, guests):
    admin = log_in(app, "alice", "admin")
    log_in(app, "bob", "user")
    seed(app, 120)
    first = admin.get("/audit").data
    assert len(entries_on(first)) == 50 and b"Page 1 of 3 (120 entries)" in first
    third = admin.get("/audit?page=3").data
    assert len(entries_on(third)) == 20
    assert entries_on(admin.get("/audit?user=bob&action=start").data)[0] == "qemu/1 on pve1"
    assert entries_on(admin.get("/audit?target=qemu/7%20on").data) == ["qemu/7 on pve1"]
    since = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    assert len(entries_on(admin.get(f"/audit?since={since}").data)) == 3
    bad = admin.get("/audit?since=yesterday&action=explode")
    assert bad.status_code == 200 and b"use YYYY-MM-DD" in bad.data


def test_users_see_only_their_own_entries(app, guests):
    log_in(app, "alice", "admin")
    bob = log_in(app, "bob", "user")
    seed(app, 10)
    page = bob.get("/audit?user=alice").data
    assert len(entries_on(page)) == 5 and b"alice" not in page.split(b"<tbody>")[1]


def test_account_changes_are_logged(app, guests):
    admin = log_in(app, "alice", "admin")
    admin.post("/admin/users/new", data={"username": "erin", "role": "user", "email": "",
                                        "password": "a-long-password-1",
                                        "confirm": "a-long-password-1"})  # fmt: skip
    with app.app_context():
        erin = db.session.scalar(db.select(User).where(User.username == "erin"))
    admin.post(f"/admin/users/{erin.id}/role", data={"role": "admin"})
    admin.post(f"/admin/users/{erin.id}/active", data={"active": "0"})
    page = admin.get("/audit?target=user/erin").data.decode()
    for action in ("create-user", "set-role", "disable-user"):
        assert f"<td>{action}</td>" in page
    assert "user → admin" in page

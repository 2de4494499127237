"""Quotas: an admin sets them on the user's page; a deploy over any of the four limits is a
form error naming the quota, the limit and the excess, reported once as app_service, and
nothing is created; users see their usage against their quota on My apps."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import App, AuditEntry, Quota, Task, User
from tests.conftest import log_in
from tests.deploys.conftest import POSTGRES_FORM, WORDPRESS_FORM, apps_in, cluster_names

# bob's deploys below ask for 2 cores, 2048 MiB and 20 GiB; he owns VM 100 (1 core, 512 MiB, 8 GiB).
LIMITS = {
    "guests": (1, "2 guests of 1 allowed (1 too many; you use 1 now)"),
    "cores": (2, "3 cores of 2 allowed (1 too many; you use 1 now)"),
    "memory": (2500, "2560 MiB of memory of 2500 allowed (60 too many; you use 512 now)"),
    "disk": (25, "28 GiB of disk of 25 allowed (3 too many; you use 8 now)"),
}


def set_quota(app, username: str, **limits) -> None:
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        quota = db.session.get(Quota, user.id) or Quota(user_id=user.id)
        for name, limit in limits.items():
            setattr(quota, name, limit)
        db.session.add(quota)
        db.session.commit()


@pytest.fixture
def bob(app, pve, assign):
    client = log_in(app, "bob", "user")
    assign(100, "bob")
    return client


@pytest.mark.parametrize("limit", LIMITS)
def test_a_deploy_over_a_quota_is_refused_reported_once_and_makes_nothing(
    sentry, pve, assign, limit
):
    app, transport = sentry()
    client = log_in(app, "bob", "user")
    assign(100, "bob")
    value, message = LIMITS[limit]
    set_quota(app, "bob", **{limit: value})
    before = cluster_names(pve)
    pve.requests.clear()
    response = client.post(
        "/apps/wordpress/deploy", data={**WORDPRESS_FORM, "request_key": "c" * 32}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    # The form's options and the quota share one look at the cluster.
    assert [p for _, p, _ in pve.requests].count("/api2/json/cluster/resources") == 1
    assert f"This deploy goes over your {limit} quota: {message}." in page
    assert apps_in(app) == [] and cluster_names(pve) == before
    events = [e for e in transport.events() if e["tags"].get("error_type") == "app_service"]
    assert len(events) == 1 and events[0]["event_id"] in page
    context = events[0]["contexts"]["app_service_error"]
    assert context["quota"] == limit and context["operation"] == "deploy"
    assert events[0]["user"]["username"] == "bob"


def test_within_the_quota_the_deploy_goes_ahead(app, bob):
    set_quota(app, "bob", guests=2, cores=3, memory=2560, disk=28)
    data = {**WORDPRESS_FORM, "request_key": "d" * 32}
    assert bob.post("/apps/wordpress/deploy", data=data).status_code == 302
    assert apps_in(app)[0].status == "running"


def test_an_admin_sets_a_quota_on_the_users_page_and_the_user_sees_it(app, bob):
    admin = log_in(app, "alice", "admin")
    with app.app_context():
        bob_id = db.session.scalar(db.select(User.id).where(User.username == "bob"))
    assert f'href="/admin/users/{bob_id}"' in admin.get("/admin/users").get_data(as_text=True)
    page = admin.get(f"/admin/users/{bob_id}").get_data(as_text=True)
    assert "Owns now" in page and "(no limit)" in page
    bad = admin.post(f"/admin/users/{bob_id}", data={"guests": "-1", "memory": "lots"})
    assert bad.status_code == 400
    saved = admin.post(f"/admin/users/{bob_id}", data={"guests": "3", "memory": "4096"})
    assert saved.status_code == 302
    with app.app_context():
        quota = db.session.get(Quota, bob_id)
        assert (quota.guests, quota.cores, quota.memory, quota.disk) == (3, None, 4096, None)
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "set-quota"))
        assert entry.detail == "guests 3, cores ∞, memory 4096, disk ∞"
    mine = bob.get("/my-apps").get_data(as_text=True)
    assert "Your quota" in mine and "512 MiB of 4096 MiB" in mine and "1 of 3" in mine
    admin.post(f"/admin/users/{bob_id}", data={"guests": "1", "memory": "256"})
    mine = bob.get("/my-apps").get_data(as_text=True)
    assert "limit reached" in mine and "256 MiB over the limit: nothing more can be added" in mine
    assert bob.get(f"/admin/users/{bob_id}").status_code == 403


@pytest.mark.parametrize(("field", "value", "limit", "message"), [
    ("cores", "3", {"cores": 2}, "cores quota: 3 cores of 2 allowed"),
    ("disk", "12", {"disk": 10}, "disk quota: 12 GiB of disk of 10 allowed"),
    ("memory", "1024", {"memory": 900}, "memory quota: 1024 MiB of memory of 900 allowed"),
])  # fmt: skip
def test_a_settings_change_over_a_quota_is_refused(app, bob, pve, field, value, limit, message):
    from tests.guests.test_config import Fields

    set_quota(app, "bob", **limit)
    path = "/guests/pve1/qemu/100/config"
    parser = Fields()
    parser.feed(bob.get(path).get_data(as_text=True))
    response = bob.post(path, data={**parser.values, field: value})
    assert response.status_code == 400
    assert f"This change goes over your {message}" in response.get_data(as_text=True)
    assert int(pve.vm(100).config["cores"]) == 1 and int(pve.vm(100).config["memory"]) == 512


def test_a_clone_and_a_restore_as_new_over_the_guests_quota_are_refused(app, bob, pve):
    from scripts.fakepve_demo import add_backup_file

    data = {**WORDPRESS_FORM, "request_key": "d" * 32}
    assert bob.post("/apps/wordpress/deploy", data=data).status_code == 302
    set_quota(app, "bob", guests=2, memory=3000)
    refused = bob.post("/my-apps/1/clone", data={"name": "x", "node": "pve2",
                                                  "request_key": "f" * 32})  # fmt: skip
    assert "This clone goes over your guests quota: 3 guests of 2 allowed" in refused.get_data(True)
    add_backup_file(pve, "local", 100, "vzdump-qemu-100-2026_11_28-03_00_00.vma.zst", 5)
    volid = "local:backup/vzdump-qemu-100-2026_11_28-03_00_00.vma.zst"
    response = bob.post("/guests/pve1/qemu/100/backups/action", data={
        "volid": volid, "operation": "restore-new", "request_key": "a1" * 16})  # fmt: skip
    flashed = bob.get(response.location).get_data(as_text=True)
    assert "This restore goes over your guests quota: 3 guests of 2 allowed" in flashed
    assert len(apps_in(app)) == 1 and len(pve.vms) == 5  # 3 templates, VM 100, the blog


def running_restore(app, username: str, vmid: int, **claim) -> None:
    """A restore as new that username started and Proxmox has not finished yet."""
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        db.session.add(Task(
            request_key=f"restore-{vmid}", user_id=user.id, action="restore-new", node="pve1",
            guest_type="qemu", vmid=vmid, status="running", upid=f"UPID:pve1:{vmid}", claim=claim,
        ))  # fmt: skip
        db.session.commit()


def test_work_in_flight_counts_against_the_quota(app, bob, pve):
    """A restore still running and a deploy whose guest does not exist yet both count."""
    set_quota(app, "bob", guests=2, memory=4000)
    running_restore(app, "bob", 555, cores=1, memory=512, disk=8)
    refused = bob.post("/apps/wordpress/deploy", data={**WORDPRESS_FORM, "request_key": "d" * 32})
    assert "goes over your guests quota: 3 guests of 2 allowed" in refused.get_data(True)
    with app.app_context():
        db.session.execute(db.delete(Task))
        db.session.commit()
    deploy = {**WORDPRESS_FORM, "request_key": "e" * 32}
    assert bob.post("/apps/wordpress/deploy", data=deploy).status_code == 302
    # The deploy as it was before its guest existed: its size counts all the same.
    pve.vms[:] = [vm for vm in pve.vms if vm.name != "blog"]
    with app.app_context():
        db.session.execute(db.update(App).values(status="deploying", vmid=None))
        db.session.commit()
    set_quota(app, "bob", guests=None, memory=3000)
    again = bob.post("/apps/wordpress/deploy", data={**WORDPRESS_FORM, "name": "blog2",
                                                      "request_key": "f" * 32})  # fmt: skip
    assert "memory quota: 4608 MiB of memory of 3000 allowed" in again.get_data(True)


def test_a_user_has_at_most_deploys_at_once_under_way(make_app, pve, assign):
    app = make_app(DEPLOYS_AT_ONCE=1)
    client = log_in(app, "bob", "user")
    deploy = {**WORDPRESS_FORM, "request_key": "d" * 32}
    assert client.post("/apps/wordpress/deploy", data=deploy).status_code == 302
    with app.app_context():  # still under way
        db.session.execute(db.update(App).values(status="deploying"))
        db.session.commit()
    refused = client.post(
        "/apps/wordpress/deploy", data={**WORDPRESS_FORM, "name": "blog2", "request_key": "e" * 32}
    )
    assert refused.status_code == 429
    assert "You have 1 deploys or clones under way, the most at once" in refused.get_data(True)
    assert len(apps_in(app)) == 1


def test_deploys_per_user_are_rate_limited(make_app, pve):
    app = make_app(DEPLOY_RATE_LIMIT="2 per minute")
    client = log_in(app, "bob", "user")
    codes = [
        client.post("/apps/postgresql/deploy", data={**POSTGRES_FORM, "name": f"site{i}",
                                                "request_key": f"{i}" * 32}).status_code
        for i in range(3)
    ]  # fmt: skip
    assert codes == [302, 302, 429]
    other = log_in(app, "carol", "user")  # per user: carol is not held back by bob
    assert (
        other.post(
            "/apps/postgresql/deploy",
            data={**POSTGRES_FORM, "name": "carols", "request_key": "c" * 32},
        ).status_code
        == 302
    )

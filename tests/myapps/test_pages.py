"""My apps: each user sees their own apps, admins everyone's (by owner); the app page follows
a deploy live and offers delete; nobody reaches another user's app."""

from __future__ import annotations

import pytest

from app import jobs
from app.extensions import db
from app.models import AuditEntry
from tests.conftest import log_in
from tests.deploys.conftest import WORDPRESS_FORM, apps_in, cluster_names


def deploy(client, name: str, key: str):
    data = {**WORDPRESS_FORM, "name": name, "request_key": key}
    return client.post("/apps/wordpress/deploy", data=data)


@pytest.fixture
def two_users_apps(app, pve):
    bob, carol = log_in(app, "bob", "user"), log_in(app, "carol", "user")
    deploy(bob, "bobs-blog", "1" * 32)
    deploy(carol, "carols-blog", "2" * 32)
    return bob, carol


def test_users_see_their_own_apps_and_admins_everyones(app, two_users_apps):
    bob, carol = two_users_apps
    mine = bob.get("/my-apps").get_data(as_text=True)
    assert "bobs-blog" in mine and "carols-blog" not in mine
    assert carol.get("/my-apps/1").status_code == 404
    # The poll of an app one cannot see answers as for one that is gone: back to My apps.
    poll = carol.get("/my-apps/1/progress")
    assert poll.status_code == 404 and poll.headers["HX-Redirect"] == "/my-apps"
    assert carol.post("/my-apps/1/delete", data={"request_key": "9" * 32}).status_code == 404
    admin = log_in(app, "alice", "admin")
    every = admin.get("/my-apps").get_data(as_text=True)
    assert "bobs-blog" in every and "carols-blog" in every
    carol_id = apps_in(app)[1].user_id
    only = admin.get(f"/my-apps?user={carol_id}").get_data(as_text=True)
    assert "carols-blog" in only and "bobs-blog" not in only
    assert "Ignored user" in admin.get("/my-apps?user=abc").get_data(as_text=True)
    assert admin.get("/my-apps/1").status_code == 200


def test_the_app_page_of_a_running_app_shows_outputs_steps_and_the_guests_buttons(
    app, two_users_apps
):
    bob, _ = two_users_apps
    page = bob.get("/my-apps/1").get_data(as_text=True)
    row = apps_in(app)[0]
    assert 'class="step step-done"' in page and page.count("step-done") == 10
    assert f"http://{row.ip_address}:8080/wp-admin/install.php" in page and "Shut down" in page
    assert "Type the guest&#39;s name to confirm" not in page  # the app's delete, not the guest's
    assert "Usage" in page  # the charts
    progress = bob.get("/my-apps/1/progress")
    assert progress.headers.get("HX-Refresh") == "true" and "hx-get" not in progress.get_data(True)


def test_a_deploy_in_progress_is_polled_with_its_steps(app, pve, monkeypatch):
    monkeypatch.setattr(jobs, "run_app", lambda app_id: None)  # queued, not yet taken
    bob = log_in(app, "bob", "user")
    deploy(bob, "later", "3" * 32)
    page = bob.get("/my-apps/1").get_data(as_text=True)
    assert "Deploying: step 1 of 10" in page and 'hx-get="/my-apps/1/progress?start=0"' in page
    fragment = bob.get("/my-apps/1/progress?start=0")
    assert "HX-Refresh" not in fragment.headers and "hx-trigger" in fragment.get_data(True)
    assert bob.post("/my-apps/1/delete", data={"request_key": "4" * 32}).status_code == 302
    assert "wait until that has ended" in bob.get("/my-apps/1").get_data(as_text=True)


def test_deleting_an_app_removes_its_guest_and_keeps_its_history(app, two_users_apps, pve):
    bob, _ = two_users_apps
    assert "bobs-blog" in cluster_names(pve)
    response = bob.post("/my-apps/1/delete", data={"request_key": "5" * 32})
    assert response.status_code == 302
    assert "bobs-blog" not in cluster_names(pve)
    assert apps_in(app)[0].status == "deleted"
    assert "Deleted. Its history stays here." in bob.get("/my-apps/1").get_data(as_text=True)
    assert "bobs-blog" not in bob.get("/my-apps").get_data(as_text=True)  # gone from the list
    with app.app_context():
        actions = [(e.action, e.result) for e in db.session.scalars(db.select(AuditEntry))]
    assert ("delete-app", "started") in actions and ("delete-app", "done") in actions
    again = bob.post("/my-apps/1/delete", data={"request_key": "6" * 32})
    assert again.status_code == 302
    assert "deleted already" in bob.get("/my-apps/1").get_data(as_text=True)


def test_the_catalog_page_offers_deploy_and_the_nav_links_my_apps(app, pve):
    bob = log_in(app, "bob", "user")
    page = bob.get("/apps/wordpress").get_data(as_text=True)
    assert 'href="/apps/wordpress/deploy?runtime=vm"' in page and 'href="/my-apps"' in page


def test_a_poll_during_a_running_step_makes_one_proxmox_call(app, pve, monkeypatch):
    from app.services.apps.deploy import runner as deploy_runner
    from tests.deploys.test_recovery import WorkerKilled

    monkeypatch.setattr(jobs, "run_app", lambda app_id: None)
    bob = log_in(app, "bob", "user")
    deploy(bob, "slow", "7" * 32)
    original = deploy_runner.STEPS["start"]

    def start_then_die(deploy_, step):
        original(deploy_, step)
        raise WorkerKilled()

    monkeypatch.setitem(deploy_runner.STEPS, "start", start_then_die)
    with app.app_context(), pytest.raises(WorkerKilled):
        deploy_runner.run(1)
    pve.requests.clear()
    fragment = bob.get("/my-apps/1/progress?start=0").get_data(as_text=True)
    calls = [(method, path) for method, path, *_ in pve.requests]
    assert len(calls) == 1 and calls[0][1].endswith("/log"), calls
    assert "TASK OK" in fragment and "step-running" in fragment

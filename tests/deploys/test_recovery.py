"""Interrupted deploys: a worker that dies leaves the deploy to the next one, which resumes it
(or fails it cleanly); a held lease keeps a second worker out; nothing stays deploying."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import jobs
from app.extensions import db
from app.models import App, AuditEntry, utcnow
from app.services.apps.deploy import runner as deploy_runner
from tests.conftest import ADMIN_PASSWORD, log_in, signed_in
from tests.deploys.conftest import WORDPRESS_FORM, apps_in, cluster_names


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: not an Exception, so no handler of the portal catches it."""


@pytest.fixture
def queued(app, monkeypatch):
    """Deploys are recorded but not run: the test runs them as a worker would."""
    ran = []
    monkeypatch.setattr(jobs, "run_app", ran.append)
    return ran


def start_deploy(app) -> int:
    client = log_in(app, "bob", "user")
    data = {**WORDPRESS_FORM, "request_key": "f" * 32}
    assert client.post("/apps/wordpress/deploy", data=data).status_code == 302
    return apps_in(app)[-1].id


def die_at(monkeypatch, step: str) -> None:
    def killed(deploy, current):
        raise WorkerKilled(step)

    monkeypatch.setitem(deploy_runner.STEPS, step, killed)


def expire_lease(app, app_id: int) -> None:
    with app.app_context():
        db.session.get(App, app_id).lease_until = utcnow() - timedelta(seconds=1)
        db.session.commit()


def run(app, app_id: int) -> None:
    with app.app_context():
        deploy_runner.run(app_id)


def test_a_deploy_cut_off_while_waiting_resumes_where_it_stopped(app, pve, queued, monkeypatch):
    app_id = start_deploy(app)
    assert queued == [app_id]
    with monkeypatch.context() as patch:
        die_at(patch, "wait")
        with pytest.raises(WorkerKilled):
            run(app, app_id)
    [row] = apps_in(app)
    assert row.status == "deploying" and row.steps[5].status == "running"
    run(app, app_id)  # a second worker at once: the lease is still held
    assert apps_in(app)[0].attempts == 1
    with app.app_context():
        assert deploy_runner.reconcile() == []  # not yet: the lease runs
    expire_lease(app, app_id)
    with app.app_context():
        assert deploy_runner.reconcile() == [app_id]
        jobs.resume_interrupted_apps.call_local()  # the periodic job queues it again
    assert queued == [app_id, app_id]
    run(app, app_id)
    [row] = apps_in(app)
    assert row.status == "running" and row.attempts == 2, row.error
    assert [s.status for s in row.steps] == ["done"] * 10
    assert sum(1 for vm in pve.vms if vm.name == "blog") == 1  # cloned once


def test_a_clone_cut_off_before_proxmox_answered_fails_cleanly(app, pve, queued, monkeypatch):
    app_id = start_deploy(app)
    before = cluster_names(pve)
    original = deploy_runner.STEPS["clone"]

    def clone_then_die(deploy, step):
        deploy.start_task(step, "clone", lambda client: (_ for _ in ()).throw(WorkerKilled()))

    with monkeypatch.context() as patch:
        patch.setitem(deploy_runner.STEPS, "clone", clone_then_die)
        with pytest.raises(WorkerKilled):
            run(app, app_id)
    assert deploy_runner.STEPS["clone"] is original
    expire_lease(app, app_id)
    run(app, app_id)
    [row] = apps_in(app)
    assert row.status == "failed" and "The worker stopped during “Clone the template”" in row.error
    assert cluster_names(pve) == before and row.sealed_secrets is None


def test_a_deploy_interrupted_too_often_fails_and_is_cleaned_up(app, pve, queued, monkeypatch):
    app.config["DEPLOY_MAX_ATTEMPTS"] = 2
    app_id = start_deploy(app)
    for _ in range(2):
        with monkeypatch.context() as patch:
            die_at(patch, "wait")
            with pytest.raises(WorkerKilled):
                run(app, app_id)
        expire_lease(app, app_id)
    assert "blog" in cluster_names(pve)
    run(app, app_id)
    [row] = apps_in(app)
    assert row.status == "failed" and "interrupted 2 times" in row.error
    assert "blog" not in cluster_names(pve)
    with app.app_context():
        assert deploy_runner.reconcile() == []


def test_a_deploy_queued_but_never_taken_is_queued_again(app, pve, queued):
    app_id = start_deploy(app)
    with app.app_context():
        row = db.session.get(App, app_id)
        row.updated_at = utcnow() - timedelta(minutes=5)  # queued, then the queue lost it
        db.session.commit()
        assert deploy_runner.reconcile() == [app_id]


def test_a_cleanup_that_fails_is_tried_again_until_the_guest_is_gone(app, pve, queued):
    """Proxmox refuses the failed deploy's destroy once: the step stays failed, the app says
    the portal keeps trying, and the reconciler's next try removes the guest."""
    app_id = start_deploy(app)
    pve.fail("POST", "/status/start", error="start_failed")
    pve.fail("DELETE", "/qemu/101", 500, "got timeout", times=1)
    run(app, app_id)
    [row] = apps_in(app)
    assert row.status == "failed" and row.guest_left and row.vmid == 101
    assert [s.status for s in row.steps if s.name == "start"] == ["failed"]
    assert "the portal keeps trying to remove it" in row.error
    assert "blog" in cluster_names(pve)
    with app.app_context():
        assert deploy_runner.reconcile() == []  # not before its next try
    expire_lease(app, app_id)
    with app.app_context():
        assert deploy_runner.reconcile() == [app_id]
    run(app, app_id)
    [row] = apps_in(app)
    assert row.status == "failed" and not row.guest_left and "blog" not in cluster_names(pve)
    assert "On a later try: The half-made guest was removed." in row.error
    with app.app_context():
        assert deploy_runner.reconcile() == []


def test_a_user_never_reads_proxmoxs_address(make_app, pve, monkeypatch):
    """Proxmox stops answering mid-deploy: the app page and audit log say what happened;
    the address is for admins (Sentry, the admin's pages)."""
    app = make_app(PROXMOX_TIMEOUT=1)
    ran = []
    monkeypatch.setattr(jobs, "run_app", ran.append)
    app_id = start_deploy(app)
    pve.time_scale = 1  # its latency is in PVE seconds
    pve.slow_network(3)
    run(app, app_id)
    pve.slow_network(0)
    [row] = apps_in(app)
    host = app.config["PROXMOX_HOST"]
    assert row.status == "failed" and "Proxmox VE did not answer in time." in row.error
    assert host not in row.error
    with app.app_context():
        details = " ".join(e.detail or "" for e in db.session.scalars(db.select(AuditEntry)))
    assert "did not answer in time" in details and host not in details
    client = signed_in(app, "bob", ADMIN_PASSWORD)
    assert host not in client.get(f"/my-apps/{app_id}").get_data(as_text=True)

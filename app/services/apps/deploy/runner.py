"""Running deploys in the worker: leases, steps in order, failure and cleanup, recovery.

The truth is in the database, not the job queue (Huey runs a job at most once: a job whose
worker is killed is gone). A worker holds a deploy by its lease and renews it while it works;
`reconcile` (every minute, and when a worker starts) queues again the deploys whose lease ran
out. A resumed deploy skips its finished steps and follows a step's Proxmox task if it had
started one; a step whose outcome cannot be known (a clone sent but never confirmed) fails the
deploy cleanly instead. After DEPLOY_MAX_ATTEMPTS the deploy fails. Nothing stays "deploying".

Failure, cleanup and delete are in teardown.py; only app.jobs imports this module.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from app import observability
from app.exceptions import AppServiceError
from app.extensions import db
from app.models import BUSY, App, AppStatus, AppStep, StepStatus, utcnow
from app.proxmox import get_client
from app.services import audit, notifications
from app.services.apps import catalog, secret_inputs
from app.services.apps.deploy import (
    base_template,
    clone,
    compose_vm,
    oci,
    steps,
    teardown,
    updates,
    updates_oci,
)
from app.services.apps.deploy.context import Deploy, Interrupted
from app.services.apps.deploy.plans import NOT_REPEATABLE

log = logging.getLogger(__name__)
STEPS = {
    **steps.RUN, **compose_vm.RUN, **oci.RUN, **clone.RUN, **base_template.RUN, **updates.RUN,
    **updates_oci.RUN,
}  # fmt: skip


def claim(app_id: int) -> App | None:
    """Take the lease of a deploy or delete nobody runs; None if it is held or has ended."""
    now = utcnow()
    lease = float(current_app.config["DEPLOY_LEASE_SECONDS"])
    taken = db.session.execute(
        update(App)
        .where(
            App.id == app_id,
            or_(App.status.in_(BUSY), and_(App.status == AppStatus.FAILED, App.guest_left)),
            or_(App.lease_until.is_(None), App.lease_until < now),
        )
        .values(lease_until=now + timedelta(seconds=lease), attempts=App.attempts + 1)
        .returning(App.id)
    ).first()
    db.session.commit()
    return db.session.get(App, app_id) if taken else None


def run(app_id: int) -> None:
    """Run (or resume) the deploy or delete of app_id, if no other worker holds it."""
    with observability.isolated():
        app = claim(app_id)
        if app is None:
            log.info("App %s: another worker holds it, or it has ended.", app_id)
            return
        log.info("Deploying app %s (%s, attempt %s).", app.id, app.status, app.attempts)
        deploy = Deploy(app, catalog.find(app.catalog_id), get_client())
        if app.status == AppStatus.DELETING:
            teardown.delete(deploy)
        elif app.status == AppStatus.FAILED:  # its half-made guest is still to remove
            teardown.clean_up_later(deploy)
        elif app.attempts > int(current_app.config["DEPLOY_MAX_ATTEMPTS"]):
            step = _current_step(app)
            interrupted = Interrupted(f"The work was interrupted {app.attempts - 1} times.")
            if app.status == AppStatus.UPDATING:
                updates.roll_back(deploy, step, interrupted)
            else:
                teardown.fail(deploy, step, interrupted)
        else:
            _deploy(deploy)


def _current_step(app: App) -> AppStep | None:
    return next(
        (s for s in app.steps if s.status in (StepStatus.RUNNING, StepStatus.PENDING)), None
    )


def _deploy(deploy: Deploy) -> None:
    app = deploy.app
    step = None
    try:
        deploy.secret_values = secret_inputs.unseal(app.sealed_secrets)
    except AppServiceError as error:
        teardown.fail(deploy, None, error)
        return
    with observability.hiding(deploy.secret_values.values()):
        try:
            for step in app.steps:
                if step.status not in (StepStatus.DONE, StepStatus.SKIPPED):
                    run_step(deploy, step)
        except Exception as error:  # noqa: BLE001 - every failure ends the deploy the same way
            if app.status == AppStatus.UPDATING:
                updates.roll_back(deploy, step, error)
            else:
                teardown.fail(deploy, step, error)
            return
    action = "update" if app.status == AppStatus.UPDATING else (
        "clone" if app.source_id is not None else "deploy"
    )  # fmt: skip
    app.status, app.sealed_secrets, app.lease_until = AppStatus.RUNNING, None, None
    link = next((o["value"] for o in app.outputs if o.get("kind") == "url"), app.ip_address)
    said = app.update_note if action == "update" else f"Running at {link}."
    notifications.about_app(app, {"update": "updated", "clone": "cloned"}.get(action, "deployed"),
                            str(said))  # fmt: skip
    audit.record(app.user or "portal", action, teardown.target(app), "done", app.catalog_id)
    db.session.commit()
    observability.breadcrumb("deploy", f"app {app.id} running")


def run_step(deploy: Deploy, step: AppStep) -> None:
    """One step: marked running (with a breadcrumb), run, marked done or skipped."""
    resumed = step.status == StepStatus.RUNNING
    if resumed and step.name in NOT_REPEATABLE:
        if step.task is None or step.task.upid is None:
            raise Interrupted(
                f"The worker stopped during “{step.label}” before Proxmox confirmed it."
            )
    step.status = StepStatus.RUNNING
    step.started_at = step.started_at or utcnow()
    deploy.beat()
    observability.breadcrumb(
        "deploy", f"{step.name} {'resumed' if resumed else 'started'}",
        {"app_id": deploy.app.id, "vmid": deploy.app.vmid, "node": deploy.app.node},
    )  # fmt: skip
    STEPS[step.name](deploy, step)
    if step.status == StepStatus.RUNNING:
        step.status = StepStatus.DONE
    step.ended_at = utcnow()
    deploy.beat()


def reconcile() -> list[int]:
    """The deploys and deletes whose worker is gone (lease run out, or never taken within a
    lease), and the failed deploys whose guest is to be removed again: their ids, for the
    caller to queue."""
    now = utcnow()
    lease = timedelta(seconds=float(current_app.config["DEPLOY_LEASE_SECONDS"]))
    stuck = and_(
        App.status.in_(BUSY),
        or_(
            App.lease_until < now,
            and_(App.lease_until.is_(None), App.updated_at < now - lease),
        ),
    )
    guest_left = and_(App.status == AppStatus.FAILED, App.guest_left, App.lease_until < now)
    return list(db.session.scalars(select(App.id).where(or_(stuck, guest_left))))

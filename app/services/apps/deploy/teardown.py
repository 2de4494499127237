"""The end of an app's guest: a failed deploy's cleanup and its one Sentry event, and deletes.

A failed deploy removes its half-made guest (or, if the user asked, keeps it stopped and
tagged), is marked failed with the step and Proxmox's message, and reaches Sentry once, for
the user who started it. Only the guest the deploy made is touched (same VMID, type and name).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import update

from app import observability
from app.exceptions import AppServiceError, ProxmoxError
from app.extensions import db
from app.models import App, AppStatus, AppStep, StepStatus, Task, utcnow
from app.observability import reports
from app.proxmox import deploys as pve
from app.proxmox import guests as pve_guests
from app.proxmox.cluster import Guest, cluster_resources
from app.services import audit, notifications, ownership
from app.services.apps import schedules
from app.services.apps.deploy import base_template
from app.services.apps.deploy.clone import drop_snapshot
from app.services.apps.deploy.context import Deploy
from app.services.apps.deploy.plans import FAILED_TAG, TAG

log = logging.getLogger(__name__)


def fail(deploy: Deploy, step: AppStep | None, error: BaseException) -> None:
    """Mark the deploy failed, remove (or keep) its guest, and report it to Sentry once. A
    guest that could not be removed is left to `clean_up_later`."""
    db.session.rollback()
    app = deploy.app
    message = message_of(error, deploy)
    if step is not None:
        step.status, step.ended_at, step.detail = StepStatus.FAILED, utcnow(), message
        if step.task is not None and step.task.upid is None:  # never started in Proxmox
            db.session.delete(step.task)
            step.task = None
    db.session.commit()  # the step's failure stays, whatever the cleanup meets
    note, left = _clean_up(deploy)
    why = f"{message} {note}".strip()
    if app.source_id is not None:
        reference = _tell_the_source(deploy, step, error, why)
        notifications.about_app(app, "clone-failed", f"{why} (error reference {reference})")
        if not left:  # a clone that failed leaves no App
            _forget(app)
            db.session.commit()
            return
    else:
        audit.record(app.user or "portal", "deploy", target(app), "failed", why)
        reference = report(deploy, step, error)
    app.status, app.error, app.error_reference = AppStatus.FAILED, why, reference  # saved together
    notifications.about_app(app, "deploy-failed", f"{why} (error reference {reference})")
    app.sealed_secrets, app.guest_left = None, left
    app.lease_until = _next_try() if left else None
    db.session.commit()


def clean_up_later(deploy: Deploy) -> None:
    """Try again to remove a failed deploy's half-made guest (the reconciler, after each
    lease, until it is gone). Its failure was reported once already: a try that fails again
    is logged only."""
    app = deploy.app
    note, left = _clean_up(deploy)
    if left:
        app.lease_until = _next_try()
        db.session.commit()
        return
    app.guest_left, app.lease_until = False, None
    audit.record(app.user or "portal", "delete-app", target(app), "done",
                 f"the failed deploy's guest, on a later try: {note}")  # fmt: skip
    if app.source_id is not None:
        _forget(app)
    else:
        app.error = f"{app.error} On a later try: {note}"
    db.session.commit()


def _next_try():
    return utcnow() + timedelta(seconds=float(current_app.config["DEPLOY_LEASE_SECONDS"]))


def _tell_the_source(deploy: Deploy, step: AppStep | None, error: BaseException, why: str):
    """A failed clone's source says why (with the error reference); reported once, audited."""
    app, source = deploy.app, deploy.app.source
    reference = report(deploy, step, error)
    where = f" at “{step.label}”" if step is not None else ""
    said = f"Cloning it to {app.name} failed{where}: {why}"
    if reference:
        said += f" (error reference {reference})"
    if source is not None:
        source.clone_error = said
    audit.record(app.user or "portal", "clone", target(app), "failed", said)
    return reference


def _forget(app: App) -> None:
    """Remove a failed clone's row (its tasks stay, in the log)."""
    db.session.execute(update(Task).where(Task.app_id == app.id).values(app_id=None))
    db.session.delete(app)


def message_of(error: BaseException, deploy: Deploy) -> str:
    """What people read of a failure: Proxmox's or the portal's message, secrets blanked."""
    if isinstance(error, ProxmoxError):  # the app page and audit log are the user's too
        return deploy.hide_secrets(error.public_message)
    if isinstance(error, AppServiceError):
        return deploy.hide_secrets(error.message)
    return "An unexpected error stopped the deploy (see the error reference)."


def _clean_up(deploy: Deploy) -> tuple[str, bool]:
    """Remove the half-made guest, or keep it stopped and tagged: what happened, in words,
    and whether a guest may be left that the portal must still remove."""
    app = deploy.app
    try:
        if app.source_id is not None:  # a clone: its source's temporary snapshot goes too
            drop_snapshot(deploy, AppStep(name="unsnapshot", label="", position=-1))
        if app.catalog_id == base_template.BASE_ID:  # a base template build: its seed ISO too
            base_template.remove_seed(deploy)
        guest = _own_guest(deploy)
        if guest is None or guest.template:  # a template is finished work, never half-made
            return "", False
        _stop(deploy, guest)
        if app.keep_on_failure:
            pve.set_config(
                deploy.client, app.node, app.guest_type, guest.vmid,
                tags=f"{TAG};{app.catalog_id};{FAILED_TAG}",
            )  # fmt: skip
            return (
                f"The guest ({app.guest_type}/{guest.vmid}) was kept, stopped, for inspection.",
                False,
            )
        _destroy(deploy, guest)
        return "The half-made guest was removed.", False
    except Exception as error:  # noqa: BLE001 - the deploy's own failure is what gets reported
        db.session.rollback()
        log.warning("Cleaning up app %s failed: %s", app.id, error)
        observability.breadcrumb("deploy", f"cleanup failed: {error}")
        said = error.public_message if isinstance(error, ProxmoxError) else "an unexpected error"
        return (
            f"Removing its guest failed too ({said}): the portal keeps trying to remove it.",
            app.vmid is not None,
        )


def _own_guest(deploy: Deploy) -> Guest | None:
    """The app's guest if it exists and is the one this deploy made (same type and name)."""
    app = deploy.app
    if app.vmid is None:
        return None
    for guest in cluster_resources(deploy.client, app.vmid).guests:
        if (guest.vmid, guest.type, guest.name) == (app.vmid, app.guest_type, app.name):
            return guest
    return None


def _kept_guest(deploy: Deploy) -> Guest | None:
    """The old container an OCI app's update kept, if it is still there."""
    app = deploy.app
    if app.previous_vmid is None:
        return None
    for guest in cluster_resources(deploy.client, app.previous_vmid).guests:
        if (guest.vmid, guest.type, guest.name) == (app.previous_vmid, "lxc", app.name):
            return guest
    return None


def _stop(deploy: Deploy, guest: Guest) -> None:
    if guest.status == "running":
        step = AppStep(name=f"stop-{guest.vmid}", label="Stop", position=-1)  # cleanup only
        deploy.run_task(
            step, "stop",
            lambda c: pve_guests.lifecycle(c, guest.node, guest.type, guest.vmid, "stop"),
        )  # fmt: skip


def _destroy(deploy: Deploy, guest: Guest) -> None:
    step = AppStep(name=f"destroy-{guest.vmid}", label="Destroy", position=-1)
    deploy.run_task(
        step, "delete", lambda c: pve_guests.destroy(c, guest.node, guest.type, guest.vmid)
    )
    ownership.forget(guest.vmid)
    db.session.commit()


def remove_guest(deploy: Deploy, guest: Guest) -> None:
    """Stop (if it runs) and destroy one of the app's guests."""
    _stop(deploy, guest)
    _destroy(deploy, guest)


def delete(deploy: Deploy) -> None:
    """Remove the app's backup job, stop and destroy its guest (if it is still the app's) and
    the old container an update kept, then mark it deleted."""
    app = deploy.app
    try:
        schedules.remove(app.user or "portal", app)  # its backup job goes first
        guest = _own_guest(deploy)
        if guest is not None:
            remove_guest(deploy, guest)
        kept = _kept_guest(deploy)  # the container an update kept goes with it
        if kept is not None:
            remove_guest(deploy, kept)
        app.previous_vmid, app.snapshot_expires = None, None
    except Exception as error:  # noqa: BLE001 - reported once, the app says what happened
        db.session.rollback()
        app.status, app.lease_until = AppStatus.FAILED, None
        app.error = f"Deleting the app failed: {message_of(error, deploy)}"
        audit.record(app.user or "portal", "delete-app", target(app), "failed", app.error)
        app.error_reference = report(deploy, None, error)
        db.session.commit()
        return
    app.status, app.lease_until = AppStatus.DELETED, None
    audit.record(app.user or "portal", "delete-app", target(app), "done")
    db.session.commit()


def target(app: App) -> str:
    """How the audit log names an app's guest."""
    return audit.target_of(app.guest_type, int(app.vmid or 0), app.node)


def report(deploy: Deploy, step: AppStep | None, error: BaseException) -> str | None:
    """The one Sentry event of a failed deploy: error type, the user who started it, and an
    `app_deploy` context (app, catalog id, step, node, VMID, UPID)."""
    app = deploy.app
    task = step.task if step is not None else None
    context = {
        "app_id": app.id,
        "catalog_id": app.catalog_id,
        "step": step.name if step is not None else app.status,
        "node": app.node,
        "vmid": app.vmid,
        "upid": getattr(error, "upid", None) or (task.upid if task else None),
        "attempt": app.attempts,
        "error_message": message_of(error, deploy),
        # All the steps, also when the breadcrumbs of a long wait pushed the first ones out.
        "steps": [f"{s.name}: {s.status}" for s in app.steps],
    }
    if isinstance(error, ProxmoxError):
        context.update(api_path=error.api_path, status_code=error.status_code, kind=error.kind,
                       proxmox_message=deploy.hide_secrets(error.message))  # fmt: skip
    tags = {"deploy_step": context["step"], "catalog_id": app.catalog_id}
    return reports.report_deploy_failure(error, context, tags, started_by=app.user)

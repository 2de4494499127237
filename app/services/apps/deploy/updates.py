"""Updating an app to the catalog's newest version, with a way back: a Compose app in its VM
here, an OCI container in updates_oci.py (the rollback and the expiry are shared).

The VM is snapshotted first (without its memory), then the new Compose file and `.env` are
written (inputs kept; generated and typed secrets read back from the old `.env`), the new
images pulled, the services recreated, and the app's health checked. Any failure after the
snapshot rolls the VM back to it on its own and starts it again: the app runs its old version,
its page says why, and Sentry has one event. The snapshot of an update that worked is kept
for UPDATE_SNAPSHOT_DAYS, then removed (`expire_snapshots`, a periodic job).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select

from app.catalog import compose as compose_file
from app.exceptions import AppServiceError, ProxmoxError
from app.extensions import db
from app.models import App, AppStatus, AppStep, StepStatus, utcnow
from app.proxmox import ProxmoxClient
from app.proxmox import guests as pve_guests
from app.services import audit, notifications
from app.services.apps import schedules
from app.services.apps.deploy import compose_vm, guest, steps, teardown, updates_oci
from app.services.apps.deploy.context import Deploy

log = logging.getLogger(__name__)


def snapshot(deploy: Deploy, step: AppStep) -> None:
    """A snapshot of the VM as it runs now (disks only), to roll back to."""
    app = deploy.app
    if app.snapshot_expires is not None:  # the last update's, kept until now: superseded
        _drop_snapshot(deploy.client, app)
    if step.task is None:  # not resuming: a new snapshot, named by the time
        app.update_snapshot = f"portal-update-{utcnow():%Y%m%d%H%M%S}"
    name = str(app.update_snapshot)
    deploy.run_task(
        step, "snapshot",
        lambda client: pve_guests.create_snapshot(
            client, app.node, "qemu", deploy.vmid, name,
            f"Before the portal updated {app.name} from {app.version} to {app.update_to}.",
        ),
    )  # fmt: skip
    step.detail = name


def compose_pull(deploy: Deploy, step: AppStep) -> None:
    """`docker compose pull`: the new images, before anything stops."""
    result = guest.run(deploy, compose_vm.compose("pull", "--quiet"))
    if not result.ok:
        raise AppServiceError(
            f"docker compose pull exited with status {result.exitcode}: {result.said(deploy)}"
        )
    step.detail = ", ".join(sorted(compose_file.images(deploy.compose).values()))


def finish_update(deploy: Deploy, step: AppStep) -> None:
    """The new version recorded; the snapshot kept for UPDATE_SNAPSHOT_DAYS."""
    app = deploy.app
    before, app.version = app.version, app.update_to
    app.images = sorted(compose_file.images(deploy.compose).values())
    days = float(current_app.config["UPDATE_SNAPSHOT_DAYS"])
    app.snapshot_expires = utcnow() + timedelta(days=days)
    app.update_to = None
    app.update_note = f"Updated from {before} to {app.version}."
    steps.finish(deploy, step)
    if app.guest_type == "lxc":
        schedules.follow(app)  # the backup job now backs up the new container
        step.detail = f"CT {app.previous_vmid} kept, stopped, for {days:g} days"
    else:
        step.detail = f"snapshot {app.update_snapshot} kept for {days:g} days"


def roll_back(deploy: Deploy, step: AppStep | None, error: BaseException) -> None:
    """After a failed step: back to the snapshot (if one was taken) and running again; the
    app says why, and the failure is one Sentry event."""
    db.session.rollback()
    app = deploy.app
    message = teardown.message_of(error, deploy)
    if step is not None:
        step.status, step.ended_at, step.detail = StepStatus.FAILED, utcnow(), message
        if step.task is not None and step.task.upid is None:
            db.session.delete(step.task)
            step.task = None
    db.session.commit()
    if app.guest_type == "lxc":
        taken = app.previous_vmid is not None
    else:
        taken = step is None or step.name != "update_snapshot"
    try:
        if taken and app.guest_type == "lxc":
            updates_oci.restore(deploy, _extra_step)
        elif taken and app.update_snapshot:
            _restore(deploy)
        note = f"Rolled back to {app.version}: {message}" if taken else (
            f"The update to {app.update_to} failed before anything changed: {message}"
        )  # fmt: skip
        app.status = AppStatus.RUNNING
    except Exception as again:  # noqa: BLE001 - the update's failure is the one reported
        db.session.rollback()
        log.warning("Rolling back app %s failed: %s", app.id, again)
        way_back = (
            f"CT {app.previous_vmid} failed too: start it from its guest page"
            if app.guest_type == "lxc" else
            f"the snapshot {app.update_snapshot} failed too: roll it back from its guest page"
        )  # fmt: skip
        note = f"The update to {app.update_to} failed ({message}) and going back to {way_back}."
        app.status = AppStatus.FAILED
    reference = teardown.report(deploy, step, error)
    audit.record(app.user or "portal", "update", teardown.target(app), "failed", note)
    app.update_note, app.error_reference = note, reference
    event = "rolled-back" if app.status == AppStatus.RUNNING and taken else "update-failed"
    notifications.about_app(app, event, f"{note} (error reference {reference})")
    if app.update_snapshot or app.previous_vmid:
        days = float(current_app.config["UPDATE_SNAPSHOT_DAYS"])
        app.snapshot_expires = utcnow() + timedelta(days=days)
    app.update_to, app.lease_until = None, None
    db.session.commit()


def _restore(deploy: Deploy) -> None:
    """Roll back to the snapshot and start the VM again (a snapshot without memory comes back
    stopped), each as a step of its own on the app's page."""
    app = deploy.app
    name = str(app.update_snapshot)
    back = _extra_step(app, "rollback", f"Roll back to {name}")
    deploy.run_task(
        back, "rollback",
        lambda client: pve_guests.rollback_snapshot(client, app.node, "qemu", deploy.vmid, name),
    )  # fmt: skip
    _ended(back)
    again = _extra_step(app, "start", "Start the VM again")
    steps.start(deploy, again)
    _ended(again)


def _extra_step(app: App, name: str, label: str) -> AppStep:
    step = AppStep(position=len(app.steps), name=name, label=label, status=StepStatus.RUNNING)
    step.started_at = utcnow()
    app.steps.append(step)
    db.session.commit()
    return step


def _ended(step: AppStep) -> None:
    step.status, step.ended_at = StepStatus.DONE, utcnow()
    db.session.commit()


def expire_snapshots(client: ProxmoxClient) -> int:
    """Remove the snapshots (and old containers) kept after updates whose time is up; how
    many went."""
    kept = or_(App.update_snapshot.is_not(None), App.previous_vmid.is_not(None))
    query = select(App).where(App.snapshot_expires < utcnow(), kept)
    removed = 0
    for app in db.session.scalars(query):
        if app.status in (AppStatus.RUNNING, AppStatus.STOPPED, AppStatus.DELETED):
            removed += _drop_snapshot(client, app)
    return removed


def _drop_snapshot(client: ProxmoxClient, app: App) -> bool:
    """Delete the app's kept snapshot, or its kept old container (gone already counts);
    False when Proxmox refused."""
    if app.guest_type == "lxc" and app.status != AppStatus.DELETED:
        return updates_oci.drop_previous(client, app)
    try:
        if app.vmid is not None and app.status != AppStatus.DELETED:
            pve_guests.delete_snapshot(client, app.node, "qemu", app.vmid, str(app.update_snapshot))
    except ProxmoxError as error:
        if "does not exist" not in (error.pve_message or error.message):
            log.warning("Snapshot %s of app %s stays: %s", app.update_snapshot, app.id, error)
            return False
    app.update_snapshot, app.previous_vmid, app.snapshot_expires = None, None, None
    db.session.commit()
    return True


RUN = {"update_snapshot": snapshot, "compose_pull": compose_pull, "finish_update": finish_update}

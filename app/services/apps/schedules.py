"""An app's scheduled backups, run by Proxmox's own scheduler: one backup job per app
(`/cluster/backup`, id `portal-app-<id>`) for its guest, with a schedule, a storage and how
many backups to keep. The portal keeps what it asked for on the app, to show it, and tells
the owner of each backup that failed (read from Proxmox's task list by the worker)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.exceptions import AppServiceError, ProxmoxError
from app.extensions import db
from app.models import SETTLED, App, User, aware, utcnow
from app.proxmox import ProxmoxClient, get_client
from app.proxmox import deploys as pve
from app.proxmox import guests as pve_guests
from app.services import audit, notifications

# What the form offers: a name, and Proxmox's calendar event for it.
SCHEDULES = {
    "daily": ("Every day at 02:30", "02:30"),
    "weekly": ("Every Sunday at 03:00", "sun 03:00"),
    "six-hourly": ("Every 6 hours", "0/6:00"),
}
KEEP_MAX = 30


def job_id(app: App) -> str:
    return f"portal-app-{app.id}"


def label(app: App) -> str | None:
    """The app's schedule in words, or None when it has none."""
    for words, event in SCHEDULES.values():
        if event == app.backup_schedule:
            return f"{words}, keeping {app.backup_keep}, on {app.backup_storage}"
    return None


def set_schedule(user: User, app: App, schedule: str, keep: int, storage: str) -> None:
    """Create or change the app's backup job; ProxmoxError when Proxmox refuses."""
    if app.status not in SETTLED or app.vmid is None:
        raise AppServiceError(f"{app.name} is {app.status}: schedule its backups once it runs.")
    event = SCHEDULES[schedule][1]
    settings = {
        "schedule": event, "vmid": str(app.vmid), "storage": storage, "mode": "snapshot",
        "prune-backups": f"keep-last={keep}", "enabled": 1,
        "comment": f"Scheduled by the portal for {app.name} ({app.catalog_id}, app {app.id}).",
    }  # fmt: skip
    pve.save_backup_job(get_client(), job_id(app), app.backup_schedule is not None, **settings)
    app.backup_schedule, app.backup_keep, app.backup_storage = event, keep, storage
    audit.record(user, "backup-schedule", f"{app.catalog_id} {app.name}", "done", label(app))
    db.session.commit()


def follow(app: App) -> None:
    """Point the app's backup job at its guest as it is now (an update of an OCI container
    app made a new one); ProxmoxError when Proxmox refuses."""
    if app.backup_schedule is not None and app.vmid is not None:
        pve.save_backup_job(get_client(), job_id(app), True, vmid=str(app.vmid))


def remove(user: User | str, app: App) -> None:
    """Delete the app's backup job (one already gone counts as deleted)."""
    if app.backup_schedule is None:
        return
    try:
        pve.delete_backup_job(get_client(), job_id(app))
    except ProxmoxError as error:
        if error.kind != "api" or "does not exist" not in (error.pve_message or error.message):
            raise
    app.backup_schedule = app.backup_keep = app.backup_storage = None
    audit.record(user, "backup-schedule", f"{app.catalog_id} {app.name}", "done", "removed")
    db.session.commit()


def check_failed_backups(client: ProxmoxClient) -> int:
    """Tell the owners of apps with scheduled backups of each backup task that failed since
    the last look (each guest's recent tasks, one call per app); how many were told."""
    query = select(App).where(App.backup_schedule.is_not(None), App.status.in_(SETTLED))
    told, floor = 0, int(utcnow().timestamp()) - 1  # a second back: task times are whole
    for app in db.session.scalars(query).all():
        since = int(aware(app.backups_checked_at).timestamp()) if app.backups_checked_at else floor
        latest = max(since, floor) if app.backups_checked_at else since
        for task in pve_guests.recent_tasks(client, app.node, int(app.vmid or 0), limit=20):
            ended, status = int(task.get("endtime") or 0), str(task.get("status") or "")
            failed = status not in ("", "OK", "running") and not status.startswith("WARNINGS")
            if task.get("type") == "vzdump" and failed and ended > since:
                said = f"The backup task ended with: {status} ({task.get('upid')})."
                told += notifications.about_app(app, "backup-failed", said)
                latest = max(latest, ended)  # one guest's backups never end in the same second
        app.backups_checked_at = datetime.fromtimestamp(latest, UTC)
    db.session.commit()
    return told

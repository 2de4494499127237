"""The job queue (Huey): work that must not run in a web request or a gunicorn worker.

Storage comes from JOBS_URL (app.config.jobs_url): a SQLite file under instance/ by default
(no extra server; one host), or `redis://...` for several hosts. The worker is
`flask --app wsgi worker` (app/cli.py). Jobs are thin: they enter the Flask app's context and
call a service. Views and the CLI import this module; services never do (a view hands
`run_app` to the service that records the work).
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey, crontab

from app import config as settings
from app.exceptions import ProxmoxError
from app.proxmox import get_client
from app.services import notifications, tasks
from app.services.apps import schedules
from app.services.apps.deploy import runner, updates

log = logging.getLogger(__name__)

_flask_app: Flask | None = None


def make_huey(url: str) -> Huey:
    """A Huey for JOBS_URL: `sqlite:///path` (the default) or `redis://host:port/db`."""
    if url.startswith("redis://"):
        return RedisHuey("portal", url=url, results=False)
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("portal", filename=str(path), journal_mode="wal", results=False)


huey = make_huey(settings.jobs_url())


def bind_flask_app(flask_app: Flask) -> None:
    """The Flask app whose context the worker's jobs run in (set by `flask worker`)."""
    global _flask_app
    _flask_app = flask_app


def _the_flask_app() -> Flask:
    if has_app_context():  # immediate mode in tests, or called from a request
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _flask_app is None:
        raise RuntimeError("No app for this job: start the worker with `flask --app wsgi worker`.")
    return _flask_app


@huey.periodic_task(crontab(minute="*"))
def sync_running_tasks() -> None:
    """Every minute: end the portal's tasks that have ended in Proxmox, watched or not.

    While Proxmox is unreachable the round is skipped with a warning, not a Sentry event a
    minute: the pages people open report that outage.
    """
    with _the_flask_app().app_context():
        try:
            tasks.sync_running()
        except ProxmoxError as error:
            log.warning("Task sync skipped this minute: %s", error.message)


@huey.task()
def run_app(app_id: int) -> None:
    """Deploy (or delete) an app; safe to queue twice: only one worker holds it at a time.
    Then send what it told its owner (a notification never holds up the deploy)."""
    with _the_flask_app().app_context():
        runner.run(app_id)
        notifications.send_pending()


@huey.task()
def send_notifications() -> None:
    """Send the outbox now (a user's test message)."""
    with _the_flask_app().app_context():
        notifications.send_pending()


@huey.periodic_task(crontab(minute="*"))
def resend_notifications() -> None:
    """Every minute: try again what could not be sent."""
    with _the_flask_app().app_context():
        notifications.send_pending()


@huey.periodic_task(crontab(minute="*"))
def resume_interrupted_apps() -> None:
    """Every minute (and when a worker starts): queue again the deploys whose worker is gone."""
    with _the_flask_app().app_context():
        for app_id in runner.reconcile():
            log.info("Resuming app %s: its worker stopped answering.", app_id)
            run_app(app_id)


@huey.periodic_task(crontab(minute="17"))
def expire_update_snapshots() -> None:
    """Every hour: remove the snapshots kept after updates (UPDATE_SNAPSHOT_DAYS) whose time
    is up. While Proxmox is unreachable the round is skipped with a warning."""
    with _the_flask_app().app_context():
        try:
            updates.expire_snapshots(get_client())
        except ProxmoxError as error:
            log.warning("Snapshot expiry skipped this hour: %s", error.message)


@huey.periodic_task(crontab(minute="*/10"))
def look_for_failed_backups() -> None:
    """Every 10 minutes: tell apps' owners of their scheduled backups that failed (and send)."""
    with _the_flask_app().app_context():
        try:
            if schedules.check_failed_backups(get_client()):
                notifications.send_pending()
        except ProxmoxError as error:
            log.warning("Backup check skipped: %s", error.message)


@huey.on_startup()
def resume_on_start() -> None:
    """A worker that starts picks up what a stopped worker left (once its lease has run out)."""
    if _flask_app is not None:
        resume_interrupted_apps.call_local()

"""The job queue (Huey): work that must not run in a web request or a gunicorn worker.

Storage comes from JOBS_URL: a SQLite file under instance/ by default (no extra server; one
host), or `redis://...` for several hosts. The worker is `flask --app wsgi worker`
(app/cli.py). Jobs are thin: they open an app context and call a service.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey, crontab

from app import config as settings
from app.exceptions import ProxmoxError
from app.services import deploy_runner, tasks

log = logging.getLogger(__name__)

_worker_app: Flask | None = None


def make_huey(url: str) -> Huey:
    """A Huey for JOBS_URL: `sqlite:///path` (the default) or `redis://host:port/db`."""
    if url.startswith("redis://"):
        return RedisHuey("portal", url=url, results=False)
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("portal", filename=str(path), journal_mode="wal", results=False)


settings.load_dotenv_file()  # the worker may import this before create_app reads .env
DEFAULT_JOBS_URL = f"sqlite:///{settings.INSTANCE_PATH / 'jobs.sqlite'}"
huey = make_huey(os.environ.get("JOBS_URL") or DEFAULT_JOBS_URL)


def bind_worker_app(app: Flask) -> None:
    """The app whose context the worker's jobs run in (set by `flask worker`)."""
    global _worker_app
    _worker_app = app


def _app() -> Flask:
    if has_app_context():  # immediate mode in tests, or called from a request
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _worker_app is None:
        raise RuntimeError("No app for this job: start the worker with `flask --app wsgi worker`.")
    return _worker_app


@huey.periodic_task(crontab(minute="*"))
def sync_running_tasks() -> None:
    """Every minute: end the portal's tasks that have ended in Proxmox, watched or not.

    While Proxmox is unreachable the round is skipped with a warning, not a Sentry event a
    minute: the pages people open report that outage.
    """
    with _app().app_context():
        try:
            tasks.sync_running()
        except ProxmoxError as error:
            log.warning("Task sync skipped this minute: %s", error.message)


@huey.task()
def run_app(app_id: int) -> None:
    """Deploy (or delete) an app; safe to queue twice: only one worker holds it at a time."""
    with _app().app_context():
        deploy_runner.run(app_id)


@huey.periodic_task(crontab(minute="*"))
def resume_interrupted_apps() -> None:
    """Every minute (and when a worker starts): queue again the deploys whose worker is gone."""
    with _app().app_context():
        for app_id in deploy_runner.reconcile():
            log.info("Resuming app %s: its worker stopped answering.", app_id)
            run_app(app_id)


@huey.on_startup()
def resume_on_start() -> None:
    """A worker that starts picks up what a stopped worker left (once its lease has run out)."""
    if _worker_app is not None:
        resume_interrupted_apps.call_local()

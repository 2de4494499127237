"""Running deploys in the worker: leases, steps in order, failure and cleanup, recovery.

The truth is in the database, not the job queue (Huey runs a job at most once: a job whose
worker is killed is gone). A worker holds a deploy by its lease and renews it while it works;
`reconcile` (every minute, and when a worker starts) queues again the deploys whose lease ran
out. A resumed deploy skips its finished steps and follows a step's Proxmox task if it had
started one; a step whose outcome cannot be known (a clone sent but never confirmed) fails the
deploy cleanly instead. After DEPLOY_MAX_ATTEMPTS the deploy fails. Nothing stays "deploying".

Failure, cleanup and delete are in app.services.deploy_teardown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from app import observability
from app.catalog import CatalogApp
from app.exceptions import AppServiceError, ProxmoxError
from app.extensions import db
from app.models import App, AppStep, Task, aware, utcnow
from app.proxmox import ProxmoxClient, get_client
from app.proxmox import guests as pve_guests
from app.proxmox.cluster import cluster_resources
from app.services import audit, catalog, clone_steps, deploy_steps, secrets
from app.services import deploy_teardown as teardown
from app.services import tasks as task_service

log = logging.getLogger(__name__)
BUSY = ("deploying", "deleting")
STEPS = {**deploy_steps.RUN, **clone_steps.RUN}


class Interrupted(AppServiceError):
    """A step was cut off (its worker died) at a point where its outcome cannot be known."""


@dataclass
class Deploy:
    """One deploy (or delete) being run by this worker."""

    app: App
    spec: CatalogApp | None
    client: ProxmoxClient
    secret_values: dict[str, str] = field(default_factory=dict, repr=False)

    def values(self, with_secrets: bool = True) -> dict:
        """The inputs and built-in values that catalog commands and outputs may name."""
        values = {**self.app.inputs, "name": self.app.name, "vmid": self.app.vmid}
        values["ip"] = self.app.ip_address or ""
        hidden = {name: deploy_steps.HIDDEN for name in self.secret_names()}
        return {**values, **(self.secret_values if with_secrets else hidden)}

    @property
    def catalog(self) -> CatalogApp:
        """The app's catalog entry (AppServiceError if it left the catalog meanwhile)."""
        if self.spec is None:
            raise AppServiceError(f"The catalog has no app {self.app.catalog_id} any more.")
        return self.spec

    @property
    def vmid(self) -> int:
        return int(self.app.vmid or 0)

    def secret_names(self) -> list[str]:
        return [i.name for i in self.catalog.inputs if i.type == "secret"]

    def values_for(self, targets: tuple[str, ...]) -> dict:
        """{target: value} of the inputs for these Proxmox parameters (empty ones left out)."""
        values = self.values()
        found = {}
        for field_spec in self.catalog.inputs:
            value = values.get(field_spec.name)
            if field_spec.target in targets and value not in (None, ""):
                found[field_spec.target] = value
        return found

    def hide_secrets(self, text: str) -> str:
        for value in self.secret_values.values():
            if value:
                text = text.replace(value, deploy_steps.HIDDEN)
        return text

    def template_vmid(self) -> int:
        """The VMID of the app's template on the chosen node (one cluster call)."""
        name = self.catalog.source.template
        for guest in cluster_resources(self.client).guests:
            if guest.template and guest.name == name and guest.node == self.app.node:
                return guest.vmid
        raise AppServiceError(f"The template {name} is no longer on {self.app.node}.")

    def beat(self) -> None:
        """Renew the lease and save what the step wrote so far."""
        lease = float(current_app.config["DEPLOY_LEASE_SECONDS"])
        self.app.lease_until = utcnow() + timedelta(seconds=lease)
        db.session.commit()

    def pause(self) -> None:
        """Wait a poll interval; renew the lease once half of it is spent (not every poll)."""
        time.sleep(float(current_app.config["DEPLOY_POLL_SECONDS"]))
        half = timedelta(seconds=float(current_app.config["DEPLOY_LEASE_SECONDS"]) / 2)
        if self.app.lease_until is None or aware(self.app.lease_until) - utcnow() < half:
            self.beat()

    def start_task(
        self, step: AppStep, action: str, call: Callable[[ProxmoxClient], str | None],
        on: App | None = None,
    ) -> Task | None:  # fmt: skip
        """The step's Proxmox task: the one it started before (resuming), or a new one. `on`
        is the app whose guest the task runs on (a clone's source), by default this one.

        The Task row is written before the call, so a worker that dies during the call leaves
        a task without a UPID: the step's outcome is unknown (see `run_step`).
        """
        if step.task is not None and step.task.upid:
            return step.task
        if step.task is not None:  # started, never confirmed, and the step may run again
            db.session.delete(step.task)
        app = self.app
        guest = on or app
        task = Task(
            request_key=f"app-{app.id}-{step.name}-{app.attempts}", user_id=app.user_id,
            action=action, node=guest.node, guest_type=guest.guest_type,
            vmid=int(guest.vmid or 0), app_id=app.id,
        )  # fmt: skip
        db.session.add(task)
        step.task = task
        db.session.commit()
        try:
            upid = call(self.client)
        except Exception:
            _drop_task(step, task)  # refused: nothing was started
            raise
        if not upid:  # done at once, without a task (e.g. an old PVE's resize)
            _drop_task(step, task)
            return None
        task.upid, task.status = str(upid), "running"
        db.session.commit()
        return task

    def wait_for(self, task: Task | None) -> None:
        """Until the task ends; ProxmoxError(kind="task") with PVE's message if it failed."""
        if task is None or task.upid is None:
            return
        deadline = time.monotonic() + float(current_app.config["DEPLOY_TASK_TIMEOUT"])
        while task.status != "stopped":
            status = pve_guests.task_status(self.client, task.node, task.upid)
            if status.get("status") == "stopped":
                task_service.finish(task, str(status.get("exitstatus") or "unknown"))
                break
            if time.monotonic() > deadline:
                raise AppServiceError(f"The {task.action} task did not end in time.")
            self.pause()
        if task.failed:
            raise ProxmoxError(
                f"The {task.action} task of {task.guest_type}/{task.vmid} failed: "
                f"{task.exit_status}",
                kind="task", pve_message=task.exit_status, node=task.node, vmid=task.vmid,
                upid=task.upid,
            )  # fmt: skip


def _drop_task(step: AppStep, task: Task) -> None:
    step.task = None
    db.session.delete(task)
    db.session.commit()


def claim(app_id: int) -> App | None:
    """Take the lease of a deploy or delete nobody runs; None if it is held or has ended."""
    now = utcnow()
    lease = float(current_app.config["DEPLOY_LEASE_SECONDS"])
    taken = db.session.execute(
        update(App)
        .where(
            App.id == app_id,
            or_(App.status.in_(BUSY), and_(App.status == "failed", App.guest_left)),
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
        if app.status == "deleting":
            teardown.delete(deploy)
        elif app.status == "failed":  # its half-made guest is still to remove
            teardown.clean_up_later(deploy)
        elif app.attempts > int(current_app.config["DEPLOY_MAX_ATTEMPTS"]):
            step = _current_step(app)
            teardown.fail(
                deploy, step, Interrupted(f"The deploy was interrupted {app.attempts - 1} times.")
            )
        else:
            _deploy(deploy)


def _current_step(app: App) -> AppStep | None:
    return next((s for s in app.steps if s.status in ("running", "pending")), None)


def _deploy(deploy: Deploy) -> None:
    app = deploy.app
    step = None
    try:
        deploy.secret_values = secrets.unseal(app.sealed_secrets)
    except AppServiceError as error:
        teardown.fail(deploy, None, error)
        return
    with observability.hiding(deploy.secret_values.values()):
        try:
            for step in app.steps:
                if step.status not in ("done", "skipped"):
                    run_step(deploy, step)
        except Exception as error:  # noqa: BLE001 - every failure ends the deploy the same way
            teardown.fail(deploy, step, error)
            return
    app.status, app.sealed_secrets, app.lease_until = "running", None, None
    action = "clone" if app.source_id is not None else "deploy"
    audit.record(app.user or "portal", action, teardown.target(app), "done", app.catalog_id)
    db.session.commit()
    observability.breadcrumb("deploy", f"app {app.id} running")


def run_step(deploy: Deploy, step: AppStep) -> None:
    """One step: marked running (with a breadcrumb), run, marked done or skipped."""
    resumed = step.status == "running"
    if resumed and step.name in deploy_steps.NOT_REPEATABLE:
        if step.task is None or step.task.upid is None:
            raise Interrupted(
                f"The worker stopped during “{step.label}” before Proxmox confirmed it."
            )
    step.status = "running"
    step.started_at = step.started_at or utcnow()
    deploy.beat()
    observability.breadcrumb(
        "deploy", f"{step.name} {'resumed' if resumed else 'started'}",
        {"app_id": deploy.app.id, "vmid": deploy.app.vmid, "node": deploy.app.node},
    )  # fmt: skip
    STEPS[step.name](deploy, step)
    if step.status == "running":
        step.status = "done"
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
    guest_left = and_(App.status == "failed", App.guest_left, App.lease_until < now)
    return list(db.session.scalars(select(App.id).where(or_(stuck, guest_left))))

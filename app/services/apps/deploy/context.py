"""`Deploy`: what every step of a deploy, clone or delete gets — the app, its catalog entry,
the Proxmox client, the secret inputs — and the lease it renews while it works."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app

from app import observability
from app.catalog import CatalogEntry
from app.exceptions import AppServiceError
from app.extensions import db
from app.models import App, AppStep, Task, aware, utcnow
from app.proxmox import ProxmoxClient
from app.proxmox.cluster import cluster_resources
from app.services import tasks
from app.services.apps.deploy.plans import HIDDEN


class Interrupted(AppServiceError):
    """A step was cut off (its worker died) at a point where its outcome cannot be known."""


@dataclass
class Deploy:
    """One deploy (or clone, or delete) being run by this worker."""

    app: App
    entry: CatalogEntry | None
    client: ProxmoxClient
    secret_values: dict[str, str] = field(default_factory=dict, repr=False)

    def values(self, with_secrets: bool = True) -> dict:
        """The inputs and built-in values that catalog commands and outputs may name."""
        values = {**self.app.inputs, "name": self.app.name, "vmid": self.app.vmid}
        values["ip"] = self.app.ip_address or ""
        hidden = {name: HIDDEN for name in self.secret_names()}
        return {**values, **(self.secret_values if with_secrets else hidden)}

    @property
    def catalog(self) -> CatalogEntry:
        """The app's catalog entry (AppServiceError if it left the catalog meanwhile)."""
        if self.entry is None:
            raise AppServiceError(f"The catalog has no app {self.app.catalog_id} any more.")
        return self.entry

    @property
    def compose(self) -> str:
        """The Compose file this run puts in place: the update's target version, else the
        deployed one (AppServiceError when the catalog no longer offers it)."""
        version = self.app.update_to or self.app.version
        try:
            return self.catalog.compose_for(version)
        except KeyError:
            raise AppServiceError(
                f"The catalog no longer offers {self.catalog.name} {version}."
            ) from None

    @property
    def vmid(self) -> int:
        return int(self.app.vmid or 0)

    def secret_names(self) -> list[str]:
        return self.catalog.secret_names()

    def values_for(self, targets: tuple[str, ...]) -> dict:
        """{target: value} of the inputs for these Proxmox parameters (empty ones left out)."""
        values = self.values()
        found = {}
        for field_spec in self.catalog.inputs:
            value = values.get(field_spec.name)
            if field_spec.target in targets and value not in (None, ""):
                found[field_spec.target] = value
        return found

    def add_secrets(self, named: dict[str, str]) -> None:
        """Secrets made during the deploy (generated ones): blanked like the inputs."""
        self.secret_values.update(named)
        observability.hide_too(named.values())

    def hide_secrets(self, text: str) -> str:
        for value in self.secret_values.values():
            if value:
                text = text.replace(value, HIDDEN)
        return text

    def template_vmid(self) -> int:
        """The VMID of the app's template on the chosen node (one cluster call)."""
        name = self.catalog.vm_template
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
        """The step's Proxmox task: the one it started before (resuming), or a new one
        (app.services.tasks: recorded, then begun). `on` is the app whose guest the task
        runs on (a clone's source), by default this one.

        The Task row is written before the call, so a worker that dies during the call leaves
        a task without a UPID: the step's outcome is unknown (see runner.run_step).
        """
        if step.task is not None and step.task.upid:
            return step.task
        if step.task is not None:  # started, never confirmed, and the step may run again
            db.session.delete(step.task)
        app = self.app
        guest = on or app
        task = tasks.new(
            app.user_id, action, guest.node, guest.guest_type, int(guest.vmid or 0),
            f"app-{app.id}-{step.name}-{step.id}-{app.attempts}", app_id=app.id,
        )  # fmt: skip
        step.task = task
        db.session.commit()
        try:
            running = tasks.begin(task, call, self.client)
        except Exception:
            step.task = None  # refused: nothing was started
            db.session.commit()
            raise
        if not running:  # done at once, without a task (e.g. an old PVE's resize)
            step.task = None
            db.session.delete(task)
        db.session.commit()
        return task if running else None

    def run_task(
        self, step: AppStep, action: str, call: Callable[[ProxmoxClient], str | None],
        on: App | None = None,
    ) -> None:  # fmt: skip
        """`start_task`, then `wait_for` it: the task has ended well when this returns."""
        self.wait_for(self.start_task(step, action, call, on))

    def wait_for(self, task: Task | None) -> None:
        """Until the task ends (app.services.tasks.wait); its failure is raised."""
        if task is not None:
            timeout = float(current_app.config["DEPLOY_TASK_TIMEOUT"])
            tasks.wait(task, self.client, timeout, self.pause)

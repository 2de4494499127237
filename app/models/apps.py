"""Apps deployed from the catalog, and the steps of their deploys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.activity import Task
from app.models.base import aware, utcnow
from app.models.users import User


class AppStatus(StrEnum):
    """An App: deploying (or a clone being made), running or stopped, failed, being deleted,
    deleted, or being updated (it runs, or is rolled back, when that ends)."""

    DEPLOYING = "deploying"
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"
    DELETING = "deleting"
    DELETED = "deleted"
    UPDATING = "updating"


BUSY = (AppStatus.DEPLOYING, AppStatus.DELETING, AppStatus.UPDATING)  # a worker holds the app
SETTLED = (AppStatus.RUNNING, AppStatus.STOPPED)  # deployed, and no worker holds it


class StepStatus(StrEnum):
    """An AppStep, in the order a step goes through them."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


APP_NAME_MAX = 63  # a DNS label


class App(Model):
    """An app deployed from the catalog: its guest, how it was asked for, and how it went.

    Secret inputs are never stored in clear: while the deploy runs they are kept encrypted in
    `sealed_secrets` (app.services.apps.secret_inputs), wiped when it ends.
    """

    __tablename__ = "apps"
    # Two deploys waiting for their guests cannot hold the same VMID (app.services.vmids).
    __table_args__ = (
        Index(
            "ix_apps_vmid_deploying", "vmid", unique=True,
            sqlite_where="status = 'deploying'", postgresql_where="status = 'deploying'",
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    catalog_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(APP_NAME_MAX))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    guest_type: Mapped[str] = mapped_column(String(8))
    node: Mapped[str] = mapped_column(String(64))
    storage: Mapped[str] = mapped_column(String(64))
    vmid: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=AppStatus.DEPLOYING, index=True)
    cores: Mapped[int] = mapped_column(Integer)
    memory: Mapped[int] = mapped_column(Integer)  # MiB
    disk: Mapped[int] = mapped_column(Integer)  # GiB
    inputs: Mapped[dict] = mapped_column(JSON, default=dict)  # the non-secret ones
    outputs: Mapped[list] = mapped_column(JSON, default=list)  # [{label, value, kind}]
    ip_address: Mapped[str | None] = mapped_column(String(64))
    keep_on_failure: Mapped[bool] = mapped_column(Boolean, default=False)
    # What runs: the catalog version and the images of its Compose file (None: a plain VM).
    version: Mapped[str | None] = mapped_column(String(40))
    images: Mapped[list | None] = mapped_column(JSON)
    # An update (app.services.apps.deploy.updates): the version it goes to while it runs, the
    # snapshot taken before it (kept until snapshot_expires), and what the last one did.
    update_to: Mapped[str | None] = mapped_column(String(40))
    update_snapshot: Mapped[str | None] = mapped_column(String(40))
    snapshot_expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    update_note: Mapped[str | None] = mapped_column(Text)
    # An OCI container's update makes a new container (deploy/updates_oci.py): the old one,
    # kept stopped to roll back to (until snapshot_expires), and the temporary clone of it
    # whose data volume the new one takes.
    previous_vmid: Mapped[int | None] = mapped_column(Integer)
    data_copy_vmid: Mapped[int | None] = mapped_column(Integer)
    # Scheduled backups: a Proxmox backup job (app.services.apps.schedules) with these.
    backup_schedule: Mapped[str | None] = mapped_column(String(64))
    backup_keep: Mapped[int | None] = mapped_column(Integer)
    backup_storage: Mapped[str | None] = mapped_column(String(64))
    backups_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A failed deploy's half-made guest that could not be removed: the reconciler tries
    # again (after each lease) until it is gone (app.services.apps.deploy.teardown).
    guest_left: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sealed_secrets: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    error_reference: Mapped[str | None] = mapped_column(String(64))
    # A clone names its source; a clone that fails is removed, and its source says why.
    source_id: Mapped[int | None] = mapped_column(ForeignKey("apps.id", ondelete="SET NULL"))
    clone_error: Mapped[str | None] = mapped_column(Text)
    # The worker running the deploy holds it until lease_until and keeps renewing it; a deploy
    # whose lease ran out lost its worker (app.services.apps.deploy.runner.reconcile).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    user: Mapped[User | None] = relationship()
    source: Mapped[App | None] = relationship(remote_side=[id])
    steps: Mapped[list[AppStep]] = relationship(
        back_populates="app", order_by="AppStep.position", cascade="all, delete-orphan"
    )

    @property
    def busy(self) -> bool:
        return self.status in BUSY


class AppStep(Model):
    """One step of an app's deploy (or delete), with its Proxmox task when it has one."""

    __tablename__ = "app_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default=StepStatus.PENDING)
    detail: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    app: Mapped[App] = relationship(back_populates="steps")
    task: Mapped[Task | None] = relationship()

    @property
    def seconds(self) -> float | None:
        """How long the step took (None until it has ended)."""
        if self.started_at is None or self.ended_at is None:
            return None
        return (aware(self.ended_at) - aware(self.started_at)).total_seconds()

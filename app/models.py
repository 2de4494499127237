"""Database models (typed SQLAlchemy 2.0)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import Model

ROLES = ("admin", "user")
USERNAME_MAX = 64
EMAIL_MAX = 254


def password_hash_method() -> str:
    """werkzeug's hash method for new passwords: scrypt by default."""
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class User(UserMixin, Model):
    """A person who logs into the portal: an `admin` or a `user`."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True, index=True)
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="user")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Part of every session's id: raising it ends every session the user has (logout, new
    # password, disabled, role changed).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses to log in inactive users
        return self.active

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session: `<id>:<session_version>`."""
        return f"{self.id}:{self.session_version}"

    def end_sessions(self) -> None:
        """End every session of this user at its next request (the caller commits)."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def set_password(self, password: str) -> None:
        """Store a hash of password (never the password itself): scrypt, unless the app's
        PASSWORD_HASH_METHOD says otherwise (the tests use a fast one)."""
        self.password_hash = generate_password_hash(password, method=password_hash_method())

    def check_password(self, password: str) -> bool:
        """True when password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"


GUEST_NAME_MAX = 128


class GuestAssignment(Model):
    """A guest given to a user; admins see every guest anyway.

    PVE reuses a deleted guest's VMID, so the assignment also names the guest's type and name:
    a different guest under the same VMID does not match it (app.services.ownership).
    """

    __tablename__ = "guest_assignments"

    vmid: Mapped[int] = mapped_column(primary_key=True)
    guest_type: Mapped[str | None] = mapped_column(String(8))
    guest_name: Mapped[str | None] = mapped_column(String(GUEST_NAME_MAX))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship()


class Task(Model):
    """A Proxmox task the portal started for someone, followed until it ends."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One per submitted form: a double-submitted form finds the first task instead of a second.
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    node: Mapped[str] = mapped_column(String(64))
    guest_type: Mapped[str] = mapped_column(String(8))
    vmid: Mapped[int] = mapped_column(Integer, index=True)
    upid: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|running|stopped
    exit_status: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # Set for a deploy's steps: the deploy reports its own failure (once), not the task.
    app_id: Mapped[int | None] = mapped_column(ForeignKey("apps.id", ondelete="SET NULL"))
    # A task making a new guest (a restore as new): the cores, memory (MiB) and disk (GiB) it
    # counts against its user's quota while it runs, before the guest is theirs.
    claim: Mapped[dict | None] = mapped_column(JSON)

    user: Mapped[User | None] = relationship()

    @property
    def succeeded(self) -> bool:
        return self.status == "stopped" and (self.exit_status or "").startswith(("OK", "WARNINGS"))

    @property
    def failed(self) -> bool:
        return self.status == "stopped" and not self.succeeded


class AuditEntry(Model):
    """Who did what to which guest, from where, and how it went (written with the action)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Who acted: a user's name, `shell:<login>` for `flask users ...`, or the name typed into a
    # failed login (then user_id is None).
    username: Mapped[str] = mapped_column(String(USERNAME_MAX))
    client_address: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(128), index=True)  # e.g. "qemu/101 on pve1"
    result: Mapped[str] = mapped_column(String(16))  # started | refused | done
    detail: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))

    task: Mapped[Task | None] = relationship()


APP_STATUSES = ("deploying", "running", "stopped", "failed", "deleting", "deleted")
APP_NAME_MAX = 63  # a DNS label


class App(Model):
    """An app deployed from the catalog: its guest, how it was asked for, and how it went.

    Secret inputs are never stored in clear: while the deploy runs they are kept encrypted in
    `sealed_secrets` (app.services.secrets), wiped when it ends.
    """

    __tablename__ = "apps"
    # Two deploys waiting for their guests cannot hold the same VMID (app.deploy.steps).
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
    status: Mapped[str] = mapped_column(String(16), default="deploying", index=True)
    cores: Mapped[int] = mapped_column(Integer)
    memory: Mapped[int] = mapped_column(Integer)  # MiB
    disk: Mapped[int] = mapped_column(Integer)  # GiB
    inputs: Mapped[dict] = mapped_column(JSON, default=dict)  # the non-secret ones
    outputs: Mapped[list] = mapped_column(JSON, default=list)  # [{label, value, kind}]
    ip_address: Mapped[str | None] = mapped_column(String(64))
    keep_on_failure: Mapped[bool] = mapped_column(Boolean, default=False)
    # A failed deploy's half-made guest that could not be removed: the reconciler tries
    # again (after each lease) until it is gone (app.services.deploy_teardown).
    guest_left: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sealed_secrets: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    error_reference: Mapped[str | None] = mapped_column(String(64))
    # A clone names its source; a clone that fails is removed, and its source says why.
    source_id: Mapped[int | None] = mapped_column(ForeignKey("apps.id", ondelete="SET NULL"))
    clone_error: Mapped[str | None] = mapped_column(Text)
    # The worker running the deploy holds it until lease_until and keeps renewing it; a deploy
    # whose lease ran out lost its worker (app.deploy.reconcile).
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
        return self.status in ("deploying", "deleting")


class AppStep(Model):
    """One step of an app's deploy (or delete), with its Proxmox task when it has one."""

    __tablename__ = "app_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(80))
    # pending | running | done | failed | skipped
    status: Mapped[str] = mapped_column(String(16), default="pending")
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


def aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Quota(Model):
    """What one user may own at most (None: no limit); admins have none (app.services.quotas)."""

    __tablename__ = "quotas"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    guests: Mapped[int | None] = mapped_column(Integer)
    cores: Mapped[int | None] = mapped_column(Integer)
    memory: Mapped[int | None] = mapped_column(Integer)  # MiB
    disk: Mapped[int | None] = mapped_column(Integer)  # GiB


class ConsoleSession(Model):
    """One console opened through the portal. Its `nonce` comes from the one-time token the
    console page issued: a second use of the token finds it taken."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    target: Mapped[str] = mapped_column(String(128))  # as in the audit log: "qemu/101 on pve1"
    kind: Mapped[str] = mapped_column(String(8))  # screen | terminal
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_reason: Mapped[str | None] = mapped_column(String(64))


class Lock(Model):
    """A named lock every worker and instance shares (app.services.locks): a transaction
    that updates the row holds it until it ends, on SQLite and PostgreSQL alike."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

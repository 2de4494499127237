"""What people did and do: Proxmox tasks, the audit log, console sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import utcnow
from app.models.users import USERNAME_MAX, User


class TaskStatus(StrEnum):
    """A Task: recorded before its Proxmox call, running once it has a UPID, then stopped."""

    PENDING = "pending"
    RUNNING = "running"
    STOPPED = "stopped"


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
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.PENDING)
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
        return self.status == TaskStatus.STOPPED and (self.exit_status or "").startswith(
            ("OK", "WARNINGS")
        )

    @property
    def failed(self) -> bool:
        return self.status == TaskStatus.STOPPED and not self.succeeded


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

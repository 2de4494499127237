"""The audit log: every state-changing action, who did it, from where, and how it went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import has_request_context, request
from sqlalchemy import Select, select

from app.extensions import db
from app.models import USERNAME_MAX, AuditEntry, Task, User

PER_PAGE = 50
MAX_PAGE = 1_000_000  # keeps the offset within any database's integers
ACTIONS = (
    "start", "shutdown", "stop", "reboot", "suspend", "resume", "delete",
    "snapshot", "rollback", "delsnapshot", "backup", "assign", "unassign",
    "create-user", "set-role", "enable-user", "disable-user", "change-password",
    "set-password", "login-failed", "deploy", "delete-app", "config", "resize", "set-quota",
    "clone", "restore", "restore-new", "delbackup", "protect", "unprotect",
)  # fmt: skip


def target_of(guest_type: str, vmid: int, node: str) -> str:
    """How a guest is named in the log, e.g. `qemu/101 on pve1`."""
    return f"{guest_type}/{vmid} on {node}"


def record(
    actor: User | str,
    action: str,
    target: str,
    result: str,
    detail: str | None = None,
    task: Task | None = None,
) -> AuditEntry:
    """Add an entry to the session; it is committed with the action's own record.

    actor is the user who acted, or a name for one who is not a portal user (the shell's
    `shell:<login>`, or the name typed into a failed login).
    """
    entry = AuditEntry(
        user_id=actor.id if isinstance(actor, User) else None,
        username=(actor.username if isinstance(actor, User) else actor)[:USERNAME_MAX],
        client_address=request.remote_addr if has_request_context() else None,
        action=action,
        target=target,
        result=result,
        detail=(detail or None) and detail[:2000],
        task=task,
    )
    db.session.add(entry)
    return entry


@dataclass
class AuditFilter:
    """The audit page's filters, as they appear in the URL."""

    user: str = ""
    action: str = ""
    target: str = ""
    since: date | None = None
    until: date | None = None

    def statement(self, viewer: User) -> Select:
        """Newest first; a non-admin only ever sees their own entries."""
        query = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        if not viewer.is_admin:
            query = query.where(AuditEntry.user_id == viewer.id)
        elif self.user:
            query = query.where(AuditEntry.username == self.user)
        if self.action:
            query = query.where(AuditEntry.action == self.action)
        if self.target:
            query = query.where(AuditEntry.target.contains(self.target))
        if self.since:
            query = query.where(
                AuditEntry.created_at >= datetime.combine(self.since, time.min, tzinfo=UTC)
            )
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=UTC)
            query = query.where(AuditEntry.created_at < end)
        return query


def page(viewer: User, filters: AuditFilter, number: int):
    """One page of entries (Flask-SQLAlchemy Pagination)."""
    return db.paginate(
        filters.statement(viewer), page=number, per_page=PER_PAGE, max_per_page=PER_PAGE,
        error_out=False,
    )  # fmt: skip

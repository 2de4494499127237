"""Limits on password guessing: failed logins and failed current-password checks.

Failures are counted in the audit log, where they are written anyway. The database is the one
store every gunicorn worker and every instance of the portal shares, so the limits hold across
them with no Redis. A login is limited per account *and* client address (a stranger elsewhere
cannot lock a user out) and per address (one address cannot try many accounts).
"""

from __future__ import annotations

import math
from datetime import timedelta

from flask import current_app, request
from limits import parse
from sqlalchemy import func, select
from werkzeug.exceptions import TooManyRequests

from app.extensions import db
from app.models import AuditEntry, User, aware, utcnow
from app.services import audit

LOGIN_FAILED = "login-failed"


def window_of(setting: str) -> tuple[int, timedelta]:
    """A rate limit setting ('5 per 10 minutes') as (5, ten minutes)."""
    limit = parse(current_app.config[setting])
    return limit.amount, timedelta(seconds=limit.get_expiry())


def _enforce(setting: str, message: str, *conditions) -> None:
    """429 with Retry-After once the failures matching conditions reach the setting's limit."""
    amount, window = window_of(setting)
    since = utcnow() - window
    query = select(func.count(), func.min(AuditEntry.created_at)).where(
        AuditEntry.created_at > since, *conditions
    )
    count, oldest = db.session.execute(query).one()
    if count >= amount:
        retry_after = max(1, math.ceil((aware(oldest) + window - utcnow()).total_seconds()))
        minutes = math.ceil(retry_after / 60)
        raise TooManyRequests(
            f"{message} Wait {minutes} minute{'s' if minutes != 1 else ''}, then try again.",
            retry_after=retry_after,
        )


def _account_name(username: str) -> str:
    return username.strip().lower()


def check_login(username: str) -> None:
    """Before checking a password: refuse (429) when this address has failed too often."""
    address = request.remote_addr
    _enforce(
        "LOGIN_ADDRESS_RATE_LIMIT",
        "Too many failed logins from your address.",
        AuditEntry.action == LOGIN_FAILED,
        AuditEntry.client_address == address,
    )
    _enforce(
        "LOGIN_RATE_LIMIT",
        "Too many failed logins for this account from your address.",
        AuditEntry.action == LOGIN_FAILED,
        AuditEntry.client_address == address,
        AuditEntry.username == _account_name(username),
    )


def record_failed_login(username: str, reason: str) -> None:
    """Audit a failed login (with the client address) and commit."""
    name = _account_name(username)
    audit.record(name, LOGIN_FAILED, f"user/{name}", "refused", reason)
    db.session.commit()


def check_password_change(user: User) -> None:
    """Before checking a current password: refuse (429) after too many wrong ones."""
    _enforce(
        "LOGIN_RATE_LIMIT",
        "Too many wrong current passwords.",
        AuditEntry.action == "change-password",
        AuditEntry.result == "refused",
        AuditEntry.user_id == user.id,
    )

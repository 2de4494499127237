"""Personal access tokens for the API: made once (shown once, stored as a SHA-256 digest),
read-only or read-write, expiring, revocable; each counts its requests against API_RATE_LIMIT
in the database, which every gunicorn worker shares.

A token is 32 random bytes: a fast digest is enough (nothing to guess), and looking it up by
its digest takes one indexed query. A token ends with its user: disabling the user or an
admin's new password for them revokes every token they have.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, select, update
from werkzeug.exceptions import TooManyRequests

from app.exceptions import AppServiceError, NotFoundError
from app.extensions import db
from app.models import SCOPES, TOKEN_NAME_MAX, ApiToken, User, aware, utcnow
from app.services import audit
from app.services.login_limits import window_of

PREFIX = "pvp_"  # portal, personal: tells a leaked token apart in logs and secret scanners


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def default_days() -> int:
    return int(current_app.config["API_TOKEN_DAYS"])


def longest_days() -> int:
    return int(current_app.config["API_TOKEN_MAX_DAYS"])


def create(acting: User | str, user: User, name: str, scope: str, days: int | None = None):
    """A new token of user: (the row, the token itself — to be shown once, then forgotten)."""
    name = name.strip()
    if not name or len(name) > TOKEN_NAME_MAX:
        raise AppServiceError(f"Give the token a name of 1 to {TOKEN_NAME_MAX} characters.")
    if scope not in SCOPES:
        raise AppServiceError(f"The scope is {' or '.join(SCOPES)}, not {scope!r}.")
    longest = longest_days()
    days = default_days() if days is None else days
    if not 1 <= days <= longest:
        raise AppServiceError(f"A token lasts 1 to {longest} days.")
    if not user.active:
        raise AppServiceError(f"{user.username} is disabled: they cannot have tokens.")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name, scope=scope, digest=digest_of(secret), hint=secret[:8],
        expires_at=utcnow() + timedelta(days=days),
    )  # fmt: skip
    db.session.add(token)
    audit.record(acting, "token-create", f"user/{user.username}", "done", f"{name} ({scope})")
    db.session.commit()
    return token, secret


def check(secret: str) -> tuple[ApiToken | None, str]:
    """The live token this secret is, or None and why not (said to the caller: it names
    nothing the caller does not know)."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.digest == digest_of(secret)))
    if token is None:
        return None, "The token is not valid."
    if token.revoked_at is not None:
        return None, "The token was revoked."
    if aware(token.expires_at) <= utcnow():
        return None, "The token has expired."
    if not token.user.active:
        return None, "The token's user is disabled."
    return token, ""


def count_use(token: ApiToken) -> None:
    """One more request on token's rate limit (and its last use); 429 beyond it."""
    amount, window = window_of("API_RATE_LIMIT")
    now = utcnow()
    fresh = ApiToken.window_start > now - window
    counted = db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id)
        .values(
            window_count=case((fresh, ApiToken.window_count + 1), else_=1),
            window_start=case((fresh, ApiToken.window_start), else_=now),
            last_used_at=now,
        )
        .returning(ApiToken.window_count, ApiToken.window_start)
    ).one()
    db.session.commit()
    if counted.window_count > amount:
        retry = max(1, math.ceil((aware(counted.window_start) + window - now).total_seconds()))
        raise TooManyRequests(
            f"This token made more than {amount} requests in {window.total_seconds():g} s.",
            retry_after=retry,
        )


def of_user(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones too, as history)."""
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(db.session.scalars(query))


def every_token() -> list[ApiToken]:
    """Every user's tokens that still work (what an admin may revoke)."""
    query = select(ApiToken).where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())
    return list(db.session.scalars(query.order_by(ApiToken.id.desc())))


def get_for(acting: User, token_id: int) -> ApiToken:
    """A token of acting's, or anyone's for an admin; NotFoundError otherwise."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (token.user_id != acting.id and not acting.is_admin):
        raise NotFoundError("No such token.")
    return token


def revoke(acting: User | str, token: ApiToken) -> None:
    """Revoke token now (a revoked one stays revoked)."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(acting, "token-revoke", f"user/{token.user.username}", "done", token.name)
    db.session.commit()


def revoke_all(user: User) -> int:
    """Revoke every token of user (the caller audits why and commits); how many."""
    live = [t for t in of_user(user) if t.revoked_at is None]
    for token in live:
        token.revoked_at = utcnow()
    return len(live)

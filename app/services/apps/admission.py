"""Whether a deploy or clone may start: its name is free, its user is within their deploy
limits and their quota. `admit` takes locks.STARTS and checks; the caller then writes the App
and commits, which releases the lock, so requests arriving at the same moment are admitted
one after the other and each sees the ones before it.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from app.exceptions import AppServiceError
from app.extensions import db
from app.models import App, AppStatus, AuditEntry, User, utcnow
from app.proxmox.cluster import ClusterResources
from app.services import locks, quotas
from app.services.apps import placement
from app.services.login_limits import window_of


class NameTaken(AppServiceError):
    """Another guest, or an app being made, has the name."""


class TooManyDeploys(AppServiceError):
    """The user started too many deploys and clones lately, or has too many under way."""


def admit(
    user: User, name: str, adds: dict[str, int], operation: str, resources: ClusterResources
) -> list[str]:
    """Take locks.STARTS and check the name, the user's deploy limits and quota (against
    `resources`, fetched before); on a refusal the lock is released and it is raised. The
    quotas it brings to 90 % or more, in words."""
    locks.hold(locks.STARTS)
    try:
        if placement.name_taken(resources, name):
            raise NameTaken(f"The name {name} is taken; choose another.")
        _within_limits(user)
        return quotas.check(user, adds, operation, resources)
    except Exception:
        db.session.rollback()
        raise


def _within_limits(user: User) -> None:
    """DEPLOYS_AT_ONCE under way, and DEPLOY_RATE_LIMIT started, per user: one user cannot
    fill the job queue ahead of everyone else."""
    at_once = int(current_app.config["DEPLOYS_AT_ONCE"])
    busy = (
        db.session.scalar(
            select(func.count()).where(App.user_id == user.id, App.status == AppStatus.DEPLOYING)
        )
        or 0
    )
    if busy >= at_once:
        raise TooManyDeploys(
            f"You have {busy} deploys or clones under way, the most at once: wait until one "
            "has finished, then try again.",
            http_status=429,
        )
    amount, window = window_of("DEPLOY_RATE_LIMIT")
    started = db.session.scalar(
        select(func.count()).where(
            AuditEntry.user_id == user.id, AuditEntry.action.in_(("deploy", "clone")),
            AuditEntry.result == "started", AuditEntry.created_at > utcnow() - window,
        )
    ) or 0  # fmt: skip
    if started >= amount:
        limit = current_app.config["DEPLOY_RATE_LIMIT"]
        raise TooManyDeploys(
            f"You started as many deploys and clones as allowed ({limit}): try again later.",
            http_status=429,
        )

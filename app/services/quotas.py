"""Quotas: how many guests, cores, MiB of memory and GiB of disk a user may own at most.

Usage is what the user owns now, from the one /cluster/resources call, plus the work in
flight that will add guests: their deploys and clones under way, and their restores as new
guests. A deploy, clone, create or change that would go over a limit raises QuotaExceeded (an
AppServiceError) naming the quota, the limit and by how much; the page shows it and reports it
to Sentry as `app_service`. Work that makes a guest checks and records itself in one step
under locks.STARTS, so requests at the same moment cannot all pass. Admins have no quota.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.exceptions import AppServiceError
from app.extensions import db
from app.models import App, AppStatus, Quota, Task, TaskStatus, User
from app.proxmox.cluster import GIB, MIB, ClusterResources, Guest
from app.services import audit, ownership

RESOURCES = ("guests", "cores", "memory", "disk")
UNITS = {"guests": "guests", "cores": "cores", "memory": "MiB of memory", "disk": "GiB of disk"}


class QuotaExceeded(AppServiceError):
    """An operation would take a user over one of their quotas."""


@dataclass
class Usage:
    """What a user owns now, against their limits (None: no limit)."""

    used: dict[str, int]
    limits: dict[str, int | None]

    @property
    def limited(self) -> bool:
        return any(limit is not None for limit in self.limits.values())


def limits_of(user: User) -> dict[str, int | None]:
    quota = db.session.get(Quota, user.id)
    return {name: getattr(quota, name) if quota else None for name in RESOURCES}


def usage(user: User, resources: ClusterResources | None = None) -> Usage:
    """The user's guests and their cores, memory (MiB) and disk (GiB), from one cluster call."""
    if resources is None:
        visible = ownership.visible_resources(user)
    else:
        visible = ownership.restrict(resources, user)
    mine = [g for g in visible.guests if not g.template]
    used = {
        "guests": len(mine),
        "cores": sum(g.maxcpu for g in mine),
        "memory": sum(g.maxmem for g in mine) // MIB,
        "disk": sum(g.maxdisk for g in mine) // GIB,
    }
    _add_in_flight(user, mine, used)
    return Usage(used, limits_of(user))


def _add_in_flight(user: User, mine: list[Guest], used: dict[str, int]) -> None:
    """Add what the user's deploys, clones and restores will own once they are done. A guest
    they made already is counted above; only what it is still to grow by is added."""
    owned: dict[tuple[int | None, str], Guest] = {(g.vmid, g.type): g for g in mine}
    apps = select(App).where(App.user_id == user.id, App.status == AppStatus.DEPLOYING)
    for app in db.session.scalars(apps):
        _add(used, owned.get((app.vmid, app.guest_type)), app.cores, app.memory, app.disk)
    restores = select(Task).where(
        Task.user_id == user.id, Task.action == "restore-new",
        Task.status.in_((TaskStatus.PENDING, TaskStatus.RUNNING)), Task.claim.is_not(None),
    )  # fmt: skip
    for task in db.session.scalars(restores):
        claim = task.claim or {}
        guest = owned.get((task.vmid, task.guest_type))
        _add(used, guest, claim.get("cores", 0), claim.get("memory", 0), claim.get("disk", 0))


def _add(used: dict[str, int], made: Guest | None, cores: int, memory: int, disk: int) -> None:
    have = (made.maxcpu, made.maxmem // MIB, made.maxdisk // GIB) if made else (0, 0, 0)
    used["guests"] += 0 if made else 1
    used["cores"] += max(0, cores - have[0])
    used["memory"] += max(0, memory - have[1])
    used["disk"] += max(0, disk - have[2])


def applies_to(user: User) -> bool:
    """True when user has a quota to check (not an admin, and at least one limit)."""
    return not user.is_admin and any(v is not None for v in limits_of(user).values())


ALMOST = 0.9  # the share of a quota that is worth a word to its user


def check(
    user: User, adds: dict[str, int], operation: str, resources: ClusterResources | None = None
) -> list[str]:
    """QuotaExceeded if adding `adds` (guests, cores, memory MiB, disk GiB) to what user owns
    and has in flight goes over a limit; nothing to check for admins or users without a
    quota. Pass the cluster the caller already has, or it is fetched (one call) — never under
    a lock: fetch it first. Returns, in words, the quotas this brings to 90 % or more."""
    limits = limits_of(user)
    if user.is_admin or all(limits[name] is None for name in adds):
        return []
    now = usage(user, resources)
    almost = []
    for name in RESOURCES:
        limit = limits[name]
        if limit is None or not adds.get(name):
            continue
        total = now.used[name] + adds[name]
        if adds[name] > 0 and total > limit:
            raise QuotaExceeded(
                f"This {operation} goes over your {name} quota: {total} {UNITS[name]} of "
                f"{limit} allowed ({total - limit} too many; you use {now.used[name]} now).",
                http_status=400,
                details={"quota": name, "limit": limit, "requested": total,
                         "over_by": total - limit, "operation": operation},
            )  # fmt: skip
        if now.used[name] < ALMOST * limit <= total:
            almost.append(f"{total} of {limit} {UNITS[name]}")
    return almost


def set_limits(acting: User, user: User, limits: dict[str, int | None]) -> None:
    """An admin sets user's quota (None: no limit), audited."""
    quota = db.session.get(Quota, user.id) or Quota(user_id=user.id)
    for name in RESOURCES:
        setattr(quota, name, limits.get(name))
    db.session.add(quota)
    shown = ", ".join(f"{n} {'∞' if limits.get(n) is None else limits[n]}" for n in RESOURCES)
    audit.record(acting, "set-quota", f"user {user.username}", "done", shown)
    db.session.commit()

"""VMIDs for guests the portal is about to make: PVE's next free id, never one that another
deploy, clone or restore of the portal holds and has not made yet.

/cluster/nextid reserves nothing, so two requests at once are offered the same id. The
portal's own rows hold the ids it will use — a deploying or updating app's `vmid` and its
update's data copy, a running restore's task — and a VMID is checked against them and
written under locks.STARTS, in one step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select

from app.exceptions import AppServiceError, ProxmoxError
from app.extensions import db
from app.models import App, AppStatus, Task, TaskStatus
from app.proxmox import ProxmoxClient
from app.proxmox import deploys as pve
from app.services import locks

T = TypeVar("T")
TRIES = 50


def held() -> set[int]:
    """The VMIDs the portal's work in flight holds (deploys, clones, updates, restores)."""
    making = (AppStatus.DEPLOYING, AppStatus.UPDATING)
    apps = select(App.vmid).where(App.status.in_(making), App.vmid.is_not(None))
    copies = select(App.data_copy_vmid).where(App.data_copy_vmid.is_not(None))
    restores = select(Task.vmid).where(
        Task.action == "restore-new", Task.status.in_((TaskStatus.PENDING, TaskStatus.RUNNING))
    )
    return {int(v or 0) for v in db.session.scalars(apps.union(copies, restores))}


def claim(client: ProxmoxClient, hold: Callable[[int], T]) -> T:
    """A free VMID for `hold(vmid)`, which writes the row that holds it (and may refuse by
    raising; anything raised, the commit's errors too, is rolled back and raised again);
    committed under locks.STARTS. Returns what hold returned."""
    candidate = pve.next_free_vmid(client)
    for _ in range(TRIES):
        locks.hold(locks.STARTS)
        try:
            if candidate not in held():
                result = hold(candidate)
                db.session.commit()
                return result
        except Exception:
            db.session.rollback()
            raise
        db.session.rollback()
        candidate = next_free_above(client, candidate)
    raise AppServiceError("No free VMID could be reserved: too many guests are being made.")


def next_free_above(client: ProxmoxClient, taken: int) -> int:
    """The first VMID above `taken` that Proxmox says is free (asks until one is)."""
    candidate = taken + 1
    while True:
        try:
            return pve.next_free_vmid(client, candidate)
        except ProxmoxError as error:
            if error.status_code != 400:
                raise
            candidate += 1

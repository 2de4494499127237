"""Who may see and act on which guest: the one place that decides.

Admins see every guest. A user sees the guests assigned to them and nothing else: any other
guest, existing or not, is "not found" for them, so its existence does not leak.

PVE reuses the VMID of a deleted guest, and a guest may be deleted where the portal cannot see
it (in Proxmox's own UI, or while the portal is down). So an assignment names the guest's type
and name as well as its VMID, and only the guest that matches all three is the user's: a new
guest under an old VMID belongs to nobody until an admin assigns it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy import and_, delete, exists, or_, select, true

from app.exceptions import NotFoundError
from app.extensions import db
from app.models import GuestAssignment, Task, User, utcnow
from app.proxmox import get_client
from app.proxmox.cluster import ClusterResources, Guest, Node, cluster_resources
from app.proxmox.guests import GUEST_TYPES
from app.services import audit

NODE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")  # PVE's pve-node


def _identity(guest: Guest) -> tuple[str, str]:
    return guest.type, guest.name


def _matches(assignment: GuestAssignment, guest: Guest) -> bool:
    return (assignment.guest_type, assignment.guest_name) == _identity(guest)


def assignments_of(user: User) -> dict[int, tuple[str | None, str | None]]:
    """VMID -> (type, name) of each guest assigned to user."""
    query = select(
        GuestAssignment.vmid, GuestAssignment.guest_type, GuestAssignment.guest_name
    ).where(GuestAssignment.user_id == user.id)
    return {vmid: (kind, name) for vmid, kind, name in db.session.execute(query)}


def restrict(resources: ClusterResources, user: User) -> ClusterResources:
    """The cluster as user may see it: every guest for admins, their own for users."""
    if user.is_admin:
        return resources
    mine = assignments_of(user)
    return replace(
        resources, guests=[g for g in resources.guests if mine.get(g.vmid) == _identity(g)]
    )


def visible_resources(user: User) -> ClusterResources:
    """Nodes and the guests user may see (one Proxmox call)."""
    return restrict(cluster_resources(get_client()), user)


def locate(
    user: User, node: str, guest_type: str, vmid: int, cluster: ClusterResources | None = None
) -> tuple[Guest, Node]:
    """The guest at node/type/vmid and its node, if user may see it; NotFoundError otherwise.
    One Proxmox call, unless the caller passes the cluster it already has."""
    if guest_type in GUEST_TYPES:
        resources = restrict(cluster, user) if cluster else visible_resources(user)
        for guest in resources.guests:
            if (guest.node, guest.type, guest.vmid) == (node, guest_type, vmid):
                host = next((n for n in resources.nodes if n.name == node), Node(node, "unknown"))
                return guest, host
    raise _not_found(node, guest_type, vmid)


def check_address(user: User, node: str, guest_type: str, vmid: int) -> None:
    """NotFoundError, before any Proxmox call, for an address that cannot be a guest user may
    see: an unknown type, a name PVE would not give a node, or a VMID not assigned to them
    (`locate` still decides, once the cluster is read)."""
    if (
        guest_type not in GUEST_TYPES
        or not NODE_NAME.fullmatch(node)
        or not (user.is_admin or vmid in assignments_of(user))
    ):
        raise _not_found(node, guest_type, vmid)


def _not_found(node: str, guest_type: str, vmid: int) -> NotFoundError:
    return NotFoundError(
        f"There is no guest {guest_type[:8]}/{vmid} on {node[:64]} that you can see."
    )


def find_guest(user: User, node: str, guest_type: str, vmid: int) -> Guest:
    """The guest at node/type/vmid if user may see it; NotFoundError otherwise."""
    return locate(user, node, guest_type, vmid)[0]


def find_by_vmids(vmids: Iterable[int]) -> list[Guest]:
    """Guests of the cluster by VMID, in one call (for the CLI); NotFoundError for a missing one."""
    guests = {guest.vmid: guest for guest in cluster_resources(get_client()).guests}
    missing = [vmid for vmid in vmids if vmid not in guests]
    if missing:
        raise NotFoundError(f"The cluster has no guest with VMID {missing[0]}.")
    return [guests[vmid] for vmid in vmids]


def owner_of(guest: Guest) -> User | None:
    """The user this very guest is assigned to, if any."""
    assignment = db.session.get(GuestAssignment, guest.vmid)
    if assignment is None or not _matches(assignment, guest):
        return None
    return assignment.user


def assign(guest: Guest, user: User) -> None:
    """Give the guest to user (replacing an earlier owner); the caller commits."""
    assignment = db.session.get(GuestAssignment, guest.vmid) or GuestAssignment(vmid=guest.vmid)
    assignment.user_id = user.id
    assignment.guest_type, assignment.guest_name = _identity(guest)
    assignment.assigned_at = utcnow()
    db.session.add(assignment)


def set_owner(acting: User | str, guest: Guest, owner: User | None) -> None:
    """Assign guest to owner (None: to nobody), audited in the same transaction."""
    target = audit.target_of(guest.type, guest.vmid, guest.node)
    if owner is not None:
        assign(guest, owner)
        audit.record(acting, "assign", target, "done", f"to {owner.username}")
    else:
        forget(guest.vmid)
        audit.record(acting, "unassign", target, "done")
    db.session.commit()


def forget(vmid: int) -> None:
    """Drop the guest's assignment (unassigned, or deleted); the caller commits."""
    db.session.execute(delete(GuestAssignment).where(GuestAssignment.vmid == vmid))


def forget_if_reused(guest: Guest) -> None:
    """Drop an assignment left by an earlier guest under this VMID; the caller commits.

    Called before the portal acts on a guest, so the earlier owner never sees tasks on it.
    """
    assignment = db.session.get(GuestAssignment, guest.vmid)
    if assignment is not None and not _matches(assignment, guest):
        db.session.delete(assignment)


def task_clause(user: User):
    """A SQL condition on Task: every task for admins; for a user, the tasks they started and
    those on a guest assigned to them since it was assigned."""
    if user.is_admin:
        return true()
    on_my_guest = exists().where(
        and_(
            GuestAssignment.vmid == Task.vmid,
            GuestAssignment.guest_type == Task.guest_type,
            GuestAssignment.user_id == user.id,
            GuestAssignment.assigned_at <= Task.started_at,
        )
    )
    return or_(Task.user_id == user.id, on_my_guest)

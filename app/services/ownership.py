"""Who may see and act on which guest: the one place that decides.

Admins see every guest. A user sees the guests assigned to them and nothing else: any other
guest, existing or not, is "not found" for them, so its existence does not leak.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import delete, select, true
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.models import GuestAssignment, User
from app.proxmox import get_client
from app.proxmox.cluster import ClusterResources, Guest, Node, cluster_resources
from app.proxmox.guests import GUEST_TYPES
from app.services import audit


def assigned_vmids(user: User) -> set[int]:
    """The VMIDs assigned to user."""
    query = select(GuestAssignment.vmid).where(GuestAssignment.user_id == user.id)
    return set(db.session.scalars(query))


def restrict(resources: ClusterResources, user: User) -> ClusterResources:
    """The cluster as user may see it: every guest for admins, their own for users."""
    if user.is_admin:
        return resources
    mine = assigned_vmids(user)
    return replace(resources, guests=[g for g in resources.guests if g.vmid in mine])


def visible_resources(user: User) -> ClusterResources:
    """Nodes and the guests user may see (one Proxmox call)."""
    return restrict(cluster_resources(get_client()), user)


def locate(user: User, node: str, guest_type: str, vmid: int) -> tuple[Guest, Node]:
    """The guest at node/type/vmid and its node, if user may see it; NotFound otherwise."""
    if guest_type in GUEST_TYPES:
        resources = visible_resources(user)
        for guest in resources.guests:
            if (guest.node, guest.type, guest.vmid) == (node, guest_type, vmid):
                host = next((n for n in resources.nodes if n.name == node), Node(node, "unknown"))
                return guest, host
    raise NotFound(f"There is no guest {guest_type[:8]}/{vmid} on {node[:64]} that you can see.")


def find_guest(user: User, node: str, guest_type: str, vmid: int) -> Guest:
    """The guest at node/type/vmid if user may see it; NotFound (404) otherwise."""
    return locate(user, node, guest_type, vmid)[0]


def owner_of(vmid: int) -> User | None:
    """The user the guest is assigned to, if any."""
    assignment = db.session.get(GuestAssignment, vmid)
    return assignment.user if assignment else None


def assign(vmid: int, user: User) -> None:
    """Give the guest to user (replacing an earlier owner); the caller commits."""
    assignment = db.session.get(GuestAssignment, vmid) or GuestAssignment(vmid=vmid)
    assignment.user_id = user.id
    db.session.add(assignment)


def set_owner(acting: User, guest: Guest, owner: User | None) -> None:
    """Assign guest to owner (None: to nobody), audited in the same transaction."""
    target = audit.target_of(guest.type, guest.vmid, guest.node)
    if owner is not None:
        assign(guest.vmid, owner)
        audit.record(acting, "assign", target, "done", f"to {owner.username}")
    else:
        forget(guest.vmid)
        audit.record(acting, "unassign", target, "done")
    db.session.commit()


def forget(vmid: int) -> None:
    """Drop the guest's assignment (unassigned, or deleted); the caller commits."""
    db.session.execute(delete(GuestAssignment).where(GuestAssignment.vmid == vmid))


def guest_clause(user: User, vmid_column):
    """A SQL condition on vmid_column: true for admins, the user's own guests otherwise."""
    if user.is_admin:
        return true()
    mine = select(GuestAssignment.vmid).where(GuestAssignment.user_id == user.id)
    return vmid_column.in_(mine)

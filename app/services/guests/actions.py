"""What a guest page's buttons start: power actions, delete, and snapshots. Each is a Proxmox
task, started once per submitted form (app.services.tasks) and followed on the task page."""

from __future__ import annotations

from app.models import Task, User
from app.proxmox import guests as pve
from app.proxmox.cluster import Guest
from app.services import tasks

SNAPSHOT_OPERATIONS = {"rollback": "rollback", "delete": "delsnapshot"}  # form word: task action


def is_power_action(guest_type: str, action: str) -> bool:
    """True for start, shutdown, stop, reboot (and suspend, resume for VMs)."""
    return action in pve.LIFECYCLE.get(guest_type, ())


def power(user: User, guest: Guest, action: str, request_key: str) -> Task:
    """Start, shut down, stop, reboot, suspend or resume the guest."""
    return tasks.start(
        user, guest, action,
        lambda c: pve.lifecycle(c, guest.node, guest.type, guest.vmid, action), request_key,
    )  # fmt: skip


def delete(user: User, guest: Guest, request_key: str) -> Task:
    """Delete the guest and its disks (the page asked for its name first)."""
    return tasks.start(
        user, guest, "delete", lambda c: pve.destroy(c, guest.node, guest.type, guest.vmid),
        request_key,
    )  # fmt: skip


def snapshot(
    user: User, guest: Guest, name: str, description: str, with_ram: bool, request_key: str
) -> Task:
    """Take a snapshot; with the VM's RAM only when asked and the guest is running."""
    return tasks.start(
        user, guest, "snapshot",
        lambda c: pve.create_snapshot(
            c, guest.node, guest.type, guest.vmid, name, description,
            with_ram=with_ram and guest.status == "running",
        ),
        request_key, detail=f"snapshot {name}",
    )  # fmt: skip


def snapshot_operation(
    user: User, guest: Guest, name: str, operation: str, request_key: str
) -> Task:
    """Roll back to (`rollback`) or delete (`delete`) one snapshot."""
    call = pve.rollback_snapshot if operation == "rollback" else pve.delete_snapshot
    return tasks.start(
        user, guest, SNAPSHOT_OPERATIONS[operation],
        lambda c: call(c, guest.node, guest.type, guest.vmid, name), request_key,
        detail=f"snapshot {name}",
    )  # fmt: skip

"""All of a guest's backups: the backups page, backing up now, and restoring (over the guest
or as a new one), deleting and protecting a backup. Each acts only on a backup listed for this
guest (never on a volume id from a form alone); backups, restores and deletes are Proxmox tasks
followed like any other; all are audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from app.exceptions import AppServiceError, NotFoundError
from app.extensions import db
from app.models import Task, User
from app.proxmox import get_client
from app.proxmox import guests as pve_guests
from app.proxmox.cluster import Guest, cluster_resources
from app.services import audit, ownership, quotas, tasks, vmids


@dataclass
class BackupsPage:
    """Where the guest's node can write backups, and the guest's backups there."""

    guest: Guest
    storages: list[dict]
    backups: list[dict]


def load(user: User, node: str, guest_type: str, vmid: int) -> BackupsPage:
    """The backups page of a guest user may see: one call for the node's backup storages, then
    one per such storage (a handful)."""
    guest = ownership.find_guest(user, node, guest_type, vmid)
    client = get_client()
    storages = [s for s in pve_guests.backup_storages(client, node) if s.get("active", 1)]
    found = [
        {**volume, "storage": storage["storage"]}
        for storage in storages
        for volume in pve_guests.backups(client, node, storage["storage"], vmid)
    ]
    found.sort(key=lambda v: v.get("ctime") or 0, reverse=True)
    return BackupsPage(guest=guest, storages=storages, backups=found)


def back_up_now(
    user: User, guest: Guest, storage: str, mode: str, compress: str, request_key: str
) -> Task:
    """Back the guest up to storage now (a task, once per request_key)."""
    return tasks.start(
        user, guest, "backup",
        lambda c: pve_guests.backup_now(c, guest.node, guest.vmid, storage, mode, compress),
        request_key, detail=f"to {storage}",
    )  # fmt: skip


def find(page: BackupsPage, volid: str) -> dict:
    """The backup of page's guest with this volume id; NotFoundError for any other."""
    for backup in page.backups:
        if backup.get("volid") == volid:
            return backup
    raise NotFoundError("This guest has no such backup.")


def delete(user: User, guest: Guest, backup: dict, request_key: str) -> Task:
    """Delete the backup file (a task); PVE refuses a protected one."""
    if backup.get("protected"):
        raise AppServiceError("This backup is protected: unprotect it first to delete it.")
    storage, volid = backup["storage"], backup["volid"]
    return tasks.start(
        user, guest, "delbackup",
        lambda c: pve_guests.delete_backup(c, guest.node, storage, volid), request_key, volid,
    )  # fmt: skip


def protect(user: User, guest: Guest, backup: dict, protected: bool) -> None:
    """Mark the backup protected (pruning and deleting leave it alone) or not."""
    storage, volid = backup["storage"], backup["volid"]
    pve_guests.protect_backup(get_client(), guest.node, storage, volid, protected)
    target = audit.target_of(guest.type, guest.vmid, guest.node)
    audit.record(user, "protect" if protected else "unprotect", target, "done", backup["volid"])
    db.session.commit()


def restore_over(user: User, guest: Guest, backup: dict, request_key: str) -> Task:
    """Replace the guest's disks and configuration with the backup's (a task). The guest must
    be stopped; what it holds now is lost."""
    if guest.status != "stopped":
        raise AppServiceError(f"Stop {guest.name} first: only a stopped guest can be restored.")
    volid, storage = backup["volid"], disk_storage(guest)
    return tasks.start(
        user, guest, "restore",
        lambda c: pve_guests.restore(c, guest.node, guest.type, guest.vmid, volid, storage, True),
        request_key, f"over it, from {volid}",
    )  # fmt: skip


def disk_storage(guest: Guest) -> str:
    """Where the guest's boot disk is: where a restore puts the disks (one Proxmox call)."""
    config = pve_guests.config(get_client(), guest.node, guest.type, guest.vmid)
    disk = pve_guests.boot_disk(config, guest.type)
    if disk is None:
        raise AppServiceError(f"{guest.name} has no disk to tell where to restore to.")
    return str(config[disk]).split(":", 1)[0]


def restore_as_new(user: User, guest: Guest, backup: dict, request_key: str) -> Task:
    """A new guest from the backup, on the same node (a task); once made, it belongs to the
    user who restored it. Its VMID is taken the way a deploy's is (app.services.vmids), and
    it counts against the user's quota like the original from the moment it is asked for."""
    existing = tasks.started(request_key)
    if existing is not None:
        return existing
    size = {"cores": guest.maxcpu, "memory": guest.memory_mib, "disk": guest.disk_gib}
    storage, volid = disk_storage(guest), backup["volid"]
    client = get_client()
    # Read before the lock (no Proxmox call under it), and only if there is a quota.
    resources = cluster_resources(client) if quotas.applies_to(user) else None

    def hold(vmid: int) -> Task:
        quotas.check(user, {"guests": 1, **size}, "restore", resources)
        new = Guest(vmid, guest.name, guest.type, guest.node, "stopped")
        return tasks.record(user, new, "restore-new", request_key, claim=size)

    try:
        task = vmids.claim(client, hold)
    except IntegrityError:
        return tasks.started_at_once(request_key)
    # The new guest is the user's once the task has made it (app.services.tasks.finish).
    return tasks.launch(
        user, task,
        lambda c: pve_guests.restore(c, guest.node, guest.type, task.vmid, volid, storage, False),
        f"as {guest.type}/{task.vmid}, from {volid} of {guest.vmid}",
    )  # fmt: skip

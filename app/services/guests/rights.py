"""Which actions the portal's Proxmox token can carry out, so pages offer only those.

Proxmox is asked once (GET /access/permissions) and the answer kept for
PERMISSIONS_CACHE_SECONDS in each process: a changed role shows within that time. When
Proxmox cannot say, every action is offered and Proxmox's own refusal explains itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g

from app.catalog import CatalogEntry
from app.exceptions import ProxmoxError
from app.proxmox import access, get_client
from app.proxmox.cluster import Guest

# What each action needs. "A|B": either privilege will do, as PVE's own check allows.
NEEDS: dict[str, tuple[str, ...]] = {
    "start": ("VM.PowerMgmt",),
    "shutdown": ("VM.PowerMgmt",),
    "stop": ("VM.PowerMgmt",),
    "reboot": ("VM.PowerMgmt",),
    "suspend": ("VM.PowerMgmt",),
    "resume": ("VM.PowerMgmt",),
    "delete": ("VM.Allocate",),
    "snapshot": ("VM.Snapshot",),
    "rollback": ("VM.Snapshot|VM.Snapshot.Rollback",),
    "settings": ("VM.Config.Memory|VM.Config.CPU|VM.Config.Disk|VM.Config.Options",),
    "backup": ("VM.Backup", "Datastore.AllocateSpace"),
    "restore": ("VM.Backup", "Datastore.AllocateSpace"),
    "restore_new": ("VM.Allocate", "Datastore.AllocateSpace"),
    "manage_backup": ("VM.Backup",),  # protect, unprotect, delete a backup
    # An app's scheduled backups are a cluster backup job: Proxmox wants Sys.Modify on /.
    "backup_schedule": ("Sys.Modify", "VM.Backup", "Datastore.AllocateSpace"),
    "console": ("VM.Console",),
    # A VM from a template: clone it, start it. A Compose app's VM then runs commands and
    # writes files through its guest agent (PVE 9: VM.GuestAgent.*; PVE 8: VM.Monitor).
    # An OCI app: pull its image into a template storage, create and start the container.
    "clone": ("VM.Clone", "VM.Allocate", "Datastore.AllocateSpace", "VM.PowerMgmt"),
    "deploy_vm": (
        "VM.Clone",
        "VM.Allocate",
        "Datastore.AllocateSpace",
        "VM.PowerMgmt",
        "VM.GuestAgent.Unrestricted|VM.Monitor",
    ),
    "deploy_oci": (
        "VM.Allocate",
        "Datastore.AllocateSpace",
        "Datastore.AllocateTemplate",
        "Sys.AccessNetwork",
        "VM.Config.Options",
        "VM.PowerMgmt",
    ),
    "deploy": ("VM.Allocate", "Datastore.AllocateSpace", "VM.PowerMgmt"),  # a container clone
    # An update: a VM is snapshotted (and maybe rolled back) and its agent runs Compose; an
    # OCI container app gets a new container, from a full clone of the old one's data.
    "update_vm": ("VM.Snapshot", "VM.PowerMgmt", "VM.GuestAgent.Unrestricted|VM.Monitor"),
    "update_oci": (
        "VM.Allocate",
        "VM.Clone",
        "VM.Config.Disk",
        "VM.Config.Options",
        "Datastore.AllocateSpace",
        "Datastore.AllocateTemplate",
        "Sys.AccessNetwork",
        "VM.PowerMgmt",
    ),
    # The base template: download its image and upload a seed ISO (templates), make the VM.
    "base_template": (
        "VM.Allocate",
        "Datastore.AllocateSpace",
        "Datastore.AllocateTemplate",
        "Sys.AccessNetwork|Sys.Modify",
        "VM.Config.CDROM",
        "VM.Config.Options",
        "VM.PowerMgmt",
    ),
}


@dataclass(frozen=True)
class Rights:
    """The token's privileges per ACL path; `held` is None when Proxmox could not say."""

    held: dict[str, frozenset[str]] | None

    def missing(self, action: str, guest: Guest | None = None) -> str | None:
        """The privilege `action` lacks (on `guest`, or on guests in general), or None."""
        if self.held is None:
            return None
        for need in NEEDS[action]:
            options = need.split("|")
            if not any(self._holds(option, guest) for option in options):
                return " or ".join(options)
        return None

    def _holds(self, privilege: str, guest: Guest | None) -> bool:
        """PVE's rule for a guest: its deepest ACL path wins. A pool, a single storage or
        (without a guest) any guest counts as holding, so nothing Proxmox allows is hidden."""
        held = self.held or {}

        def anywhere(paths: Callable[[str], bool]) -> bool:
            return any(privilege in privs for path, privs in held.items() if paths(path))

        if privilege.startswith("Datastore."):
            return anywhere(lambda path: path == "/" or path.startswith("/storage"))
        if privilege.startswith("Sys."):
            return anywhere(lambda path: path == "/" or path.startswith("/nodes"))
        in_a_pool = anywhere(lambda path: path.startswith("/pool/"))
        if guest is None:
            return in_a_pool or anywhere(
                lambda path: path in ("/", "/vms") or path.startswith("/vms/")
            )
        deepest = next((p for p in (f"/vms/{guest.vmid}", "/vms", "/") if p in held), None)
        return in_a_pool or (deepest is not None and privilege in held[deepest])


def current() -> Rights:
    """The token's rights: from this request, the process's cache, or Proxmox."""
    if "rights" not in g:
        g.rights = _cached() or _fetch()
    return g.rights


def _cached() -> Rights | None:
    stored = current_app.extensions.get("rights")
    if stored and time.monotonic() - stored[0] < current_app.config["PERMISSIONS_CACHE_SECONDS"]:
        return stored[1]
    return None


def _fetch() -> Rights:
    try:
        rights = Rights(access.permissions(get_client()))
    except ProxmoxError:
        return Rights(None)  # the page's own calls report what is wrong
    current_app.extensions["rights"] = (time.monotonic(), rights)
    return rights


def missing(action: str, guest: Guest | None = None) -> str | None:
    """For templates: the privilege `action` lacks, or None."""
    return current().missing(action, guest)


def deploy_action(entry: CatalogEntry, runtime: str = "vm") -> str:
    """What deploying this app in this runtime takes (NEEDS)."""
    if runtime == "oci":
        return "deploy_oci"
    return "deploy_vm" if entry.compose else "clone"

"""One guest's API calls (QEMU VMs and LXC containers): each function is one HTTP request.

The two guest types take different parameters (e.g. LXC snapshots have no RAM state); the
callers pass the guest's type and these functions send only what that type accepts.
"""

from __future__ import annotations

import re
from typing import Any

from app.proxmox.client import ProxmoxClient

GUEST_TYPES = ("qemu", "lxc")
TIMEFRAMES = ("hour", "day", "week")
LIFECYCLE = {
    "qemu": ("start", "shutdown", "stop", "reboot", "suspend", "resume"),
    "lxc": ("start", "shutdown", "stop", "reboot"),
}


# The disk a guest boots from, by guest type, in the order PVE's templates use them.
BOOT_DISKS = {"qemu": ("scsi0", "virtio0", "sata0", "ide0"), "lxc": ("rootfs",)}


def boot_disk(config: dict, guest_type: str) -> str | None:
    """The config key of the guest's boot disk (a CD-ROM is no disk), or None."""
    return next(
        (k for k in BOOT_DISKS[guest_type] if k in config and "media=cdrom" not in str(config[k])),
        None,
    )


def disk_size_gib(drive: str) -> float:
    """The `size=` of a drive or mount point value (e.g. `local-lvm:vm-1-disk-0,size=32G`)."""
    match = re.search(r"size=(\d+(?:\.\d+)?)([KMGT]?)", drive)
    if not match:
        return 0
    factor = {"K": 1 / 2**20, "M": 1 / 2**10, "G": 1, "T": 2**10, "": 1 / 2**30}[match.group(2)]
    return float(match.group(1)) * factor


def _base(node: str, guest_type: str, vmid: int) -> str:
    if guest_type not in GUEST_TYPES:
        raise ValueError(f"unknown guest type {guest_type!r}")
    return f"nodes/{node}/{guest_type}/{int(vmid)}"


def status(client: ProxmoxClient, node: str, guest_type: str, vmid: int) -> dict:
    """GET status/current: state, uptime and live usage."""
    return client.get(f"{_base(node, guest_type, vmid)}/status/current") or {}


def config(client: ProxmoxClient, node: str, guest_type: str, vmid: int) -> dict:
    """GET config: cores, memory, disks, networks, tags, description (and `digest`)."""
    return client.get(f"{_base(node, guest_type, vmid)}/config") or {}


def pending(client: ProxmoxClient, node: str, guest_type: str, vmid: int) -> list[dict]:
    """GET pending: each config key with its value now and, if it waits for the next start,
    its `pending` value (or `delete`)."""
    return client.get(f"{_base(node, guest_type, vmid)}/pending") or []


def update_config(
    client: ProxmoxClient, node: str, guest_type: str, vmid: int, digest: str, **values: Any
) -> None:
    """PUT config (synchronous), refused by PVE if the config no longer has this digest."""
    client.request("PUT", f"{_base(node, guest_type, vmid)}/config", digest=digest, **values)


def snapshots(client: ProxmoxClient, node: str, guest_type: str, vmid: int) -> list[dict]:
    """GET snapshot: every snapshot with its parent, plus PVE's `current` pseudo-entry."""
    return client.get(f"{_base(node, guest_type, vmid)}/snapshot") or []


def rrddata(
    client: ProxmoxClient, node: str, guest_type: str, vmid: int, timeframe: str
) -> list[dict]:
    """GET rrddata: averaged CPU, memory, network and disk series for hour, day or week."""
    path = f"{_base(node, guest_type, vmid)}/rrddata"
    return client.get(path, timeframe=timeframe, cf="AVERAGE") or []


def interfaces(client: ProxmoxClient, node: str, guest_type: str, vmid: int) -> list[dict]:
    """A running guest's network interfaces and addresses: a VM's from its QEMU guest agent
    (PVE answers 500 while the agent does not run), a container's from the host."""
    if guest_type == "qemu":
        answer = client.get(f"{_base(node, guest_type, vmid)}/agent/network-get-interfaces")
        return (answer or {}).get("result") or []
    return client.get(f"{_base(node, guest_type, vmid)}/interfaces") or []


def recent_tasks(client: ProxmoxClient, node: str, vmid: int, limit: int = 10) -> list[dict]:
    """GET /nodes/{node}/tasks for one guest, newest first."""
    return client.get(f"nodes/{node}/tasks", vmid=int(vmid), limit=limit) or []


def lifecycle(client: ProxmoxClient, node: str, guest_type: str, vmid: int, action: str) -> str:
    """POST status/{action}; returns the task's UPID."""
    if action not in LIFECYCLE[guest_type]:
        raise ValueError(f"{guest_type} guests cannot {action}")
    return client.request("POST", f"{_base(node, guest_type, vmid)}/status/{action}")


def destroy(client: ProxmoxClient, node: str, guest_type: str, vmid: int) -> str:
    """DELETE the guest with its disks, and purge it from backup jobs and HA; returns the UPID."""
    params: dict[str, Any] = {"purge": 1, "destroy-unreferenced-disks": 1}
    return client.request("DELETE", _base(node, guest_type, vmid), **params)


def create_snapshot(
    client: ProxmoxClient,
    node: str,
    guest_type: str,
    vmid: int,
    name: str,
    description: str = "",
    with_ram: bool = False,
) -> str:
    """POST snapshot; RAM state (`vmstate`) exists for QEMU only. Returns the UPID."""
    params: dict[str, Any] = {"snapname": name}
    if description:
        params["description"] = description
    if with_ram and guest_type == "qemu":
        params["vmstate"] = 1
    return client.request("POST", f"{_base(node, guest_type, vmid)}/snapshot", **params)


def rollback_snapshot(client: ProxmoxClient, node: str, guest_type: str, vmid: int, name: str):
    """POST snapshot/{name}/rollback; returns the UPID."""
    return client.request("POST", f"{_base(node, guest_type, vmid)}/snapshot/{name}/rollback")


def delete_snapshot(client: ProxmoxClient, node: str, guest_type: str, vmid: int, name: str):
    """DELETE snapshot/{name}; returns the UPID."""
    return client.request("DELETE", f"{_base(node, guest_type, vmid)}/snapshot/{name}")


def backup_storages(client: ProxmoxClient, node: str) -> list[dict]:
    """GET /nodes/{node}/storage?content=backup: where this node can write backups."""
    return client.get(f"nodes/{node}/storage", content="backup", enabled=1) or []


def backups(client: ProxmoxClient, node: str, storage: str, vmid: int) -> list[dict]:
    """GET the backup volumes of one guest on one storage."""
    return (
        client.get(f"nodes/{node}/storage/{storage}/content", content="backup", vmid=int(vmid))
        or []
    )


def delete_backup(client: ProxmoxClient, node: str, storage: str, volid: str) -> str:
    """DELETE a backup volume; returns the UPID."""
    return client.request("DELETE", f"nodes/{node}/storage/{storage}/content/{volid}")


def protect_backup(
    client: ProxmoxClient, node: str, storage: str, volid: str, protected: bool
) -> None:
    """PUT the backup's `protected` flag (synchronous)."""
    path = f"nodes/{node}/storage/{storage}/content/{volid}"
    client.request("PUT", path, protected=1 if protected else 0)


def restore(
    client: ProxmoxClient, node: str, guest_type: str, vmid: int, volid: str, storage: str,
    force: bool,
) -> str:  # fmt: skip
    """Restore a backup into VMID (over an existing guest with force), its disks on storage;
    returns the UPID.

    QEMU restores with `archive`; LXC creates from the archive as `ostemplate` with `restore`.
    """
    params: dict[str, Any] = {"vmid": int(vmid), "storage": storage}
    if force:
        params["force"] = 1
    if guest_type == "qemu":
        return client.request("POST", f"nodes/{node}/qemu", archive=volid, **params)
    return client.request("POST", f"nodes/{node}/lxc", ostemplate=volid, restore=1, **params)


def backup_now(
    client: ProxmoxClient, node: str, vmid: int, storage: str, mode: str, compress: str
) -> str:
    """POST /nodes/{node}/vzdump for one guest; returns the UPID."""
    return client.request(
        "POST", f"nodes/{node}/vzdump", vmid=str(vmid), storage=storage, mode=mode,
        compress=compress,
    )  # fmt: skip


def task_log(client: ProxmoxClient, node: str, upid: str, start: int = 0) -> list[dict]:
    """GET the task's log lines from line `start` on ({"n": number, "t": text})."""
    return client.get(f"nodes/{node}/tasks/{upid}/log", start=start, limit=500) or []


def task_status(client: ProxmoxClient, node: str, upid: str) -> dict:
    """GET the task's status: `running` or `stopped`, with `exitstatus` once stopped."""
    return client.get(f"nodes/{node}/tasks/{upid}/status") or {}

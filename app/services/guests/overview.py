"""A guest's page: status, config, snapshots, recent tasks and charts, in six Proxmox calls.

The number of calls is fixed: it does not grow with the cluster, the guest's snapshots or its
tasks (cluster/resources to find the guest, then status, config, snapshot, rrddata and tasks,
those five at once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.models import User
from app.proxmox import get_client
from app.proxmox import guests as pve_guests
from app.proxmox.cluster import Guest, Node
from app.proxmox.parallel import at_once
from app.services import ownership, tasks
from app.services.guests import rights
from app.services.guests.charts import Chart, build_charts

DISK_KEY = re.compile(r"^(scsi|virtio|sata|ide|efidisk|tpmstate|mp)\d+$|^rootfs$")
NET_KEY = re.compile(r"^net\d+$")
SUMMARY_KEYS = (
    ("cores", "Cores"), ("sockets", "Sockets"), ("cpu", "CPU type"), ("memory", "Memory (MiB)"),
    ("swap", "Swap (MiB)"), ("ostype", "OS type"), ("arch", "Architecture"), ("boot", "Boot order"),
    ("onboot", "Start at boot"), ("unprivileged", "Unprivileged"), ("serial0", "Serial port"),
)  # fmt: skip


@dataclass
class Snapshot:
    """One snapshot in the tree; `depth` is how far below the first snapshot it sits."""

    name: str
    depth: int
    description: str = ""
    snaptime: int | None = None
    vmstate: bool = False
    current: bool = False  # PVE's "You are here!" entry, not a real snapshot


@dataclass
class GuestPage:
    """Everything the guest page shows."""

    guest: Guest
    status: dict
    config: dict
    summary: list[tuple[str, str]]
    disks: list[tuple[str, str]]
    networks: list[tuple[str, str]]
    snapshots: list[Snapshot]
    pve_tasks: list[dict]
    charts: list[Chart]
    timeframe: str
    actions: list[str] = field(default_factory=list)
    owner: User | None = None
    node_online: bool = True

    @property
    def paused(self) -> bool:
        return self.status.get("qmpstatus") in ("paused", "suspended")

    @property
    def state(self) -> str:
        """What the status badge says: PVE's qmpstatus for a paused VM, else its status."""
        return self.status["qmpstatus"] if self.paused else self.status.get("status", "unknown")


def load(guest: Guest, host: Node, timeframe: str) -> GuestPage:
    """The page of a guest found by ownership.locate (which made the first call), with charts
    over timeframe (`hour` when it is not one of PVE's)."""
    if timeframe not in pve_guests.TIMEFRAMES:
        timeframe = "hour"
    node, guest_type, vmid = guest.node, guest.type, guest.vmid
    if not host.online:  # PVE would answer every call with 595 "No route to host"
        return GuestPage(guest, {"status": guest.status}, {}, [], [], [], [], [], [], timeframe,
                         owner=ownership.owner_of(guest), node_online=False)  # fmt: skip
    client = get_client()
    status, config, recent_tasks, snapshots, samples, _ = at_once(
        lambda: pve_guests.status(client, node, guest_type, vmid),
        lambda: pve_guests.config(client, node, guest_type, vmid),
        lambda: pve_guests.recent_tasks(client, node, vmid),
        lambda: pve_guests.snapshots(client, node, guest_type, vmid),
        lambda: pve_guests.rrddata(client, node, guest_type, vmid, timeframe),
        rights.current,  # the token's privileges, for the buttons; usually cached
    )
    tasks.settle(recent_tasks)  # tasks whose page nobody watched to the end
    return GuestPage(
        guest=guest,
        status=status,
        config=config,
        summary=[(label, str(config[key])) for key, label in SUMMARY_KEYS if key in config],
        disks=sorted((k, str(v)) for k, v in config.items() if DISK_KEY.match(k)),
        networks=sorted((k, str(v)) for k, v in config.items() if NET_KEY.match(k)),
        snapshots=snapshot_tree(snapshots),
        pve_tasks=recent_tasks,
        charts=build_charts(samples),
        timeframe=timeframe,
        actions=available_actions(guest_type, status, guest.template),
        owner=ownership.owner_of(guest),
    )


def available_actions(guest_type: str, status: dict, template: bool = False) -> list[str]:
    """The lifecycle buttons that make sense in the guest's current state."""
    if template:
        return ["delete"]
    state = status.get("status")
    if state == "stopped":
        return ["start", "delete"]
    if state != "running":
        return []
    if guest_type == "qemu" and status.get("qmpstatus") in ("paused", "suspended"):
        return ["resume", "stop"]
    actions = ["shutdown", "reboot", "stop"]
    if guest_type == "qemu":
        actions.insert(2, "suspend")
    return actions


def snapshot_tree(entries: list[dict]) -> list[Snapshot]:
    """PVE's flat snapshot list as a tree (parents before children), with depths."""
    children: dict[str | None, list[dict]] = {}
    names = {e.get("name") for e in entries}
    for entry in entries:
        parent = entry.get("parent") if entry.get("parent") in names else None
        children.setdefault(parent, []).append(entry)
    ordered: list[Snapshot] = []

    def walk(parent: str | None, depth: int) -> None:
        for entry in sorted(children.get(parent, []), key=_snapshot_order):
            name = str(entry.get("name"))
            ordered.append(
                Snapshot(
                    name=name,
                    depth=depth,
                    description=str(entry.get("description") or ""),
                    snaptime=entry.get("snaptime"),
                    vmstate=bool(entry.get("vmstate")),
                    current=name == "current",
                )  # fmt: skip
            )
            walk(name, depth + 1)

    walk(None, 0)
    return ordered


def _snapshot_order(entry: dict) -> tuple:
    # "current" (no snaptime) comes after the real snapshots at its level.
    return (entry.get("name") == "current", entry.get("snaptime") or 0, str(entry.get("name")))

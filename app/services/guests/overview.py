"""A guest's page: status, config, snapshots, recent tasks and charts, in six Proxmox calls.

The number of calls is fixed: it does not grow with the cluster, the guest's snapshots or its
tasks. All six go out at once: cluster/resources (which finds the guest, its node, and whether
the user may see it) and status, config, snapshot, rrddata and tasks, which only need the
node, type and VMID the address gives. The page waits for its slowest call, not for the
cluster's and then the others'; what the five read is used only once the cluster has shown
the guest is there and the user's, and not waited for when its node is offline.
"""

from __future__ import annotations

import re
from concurrent.futures import Future, wait
from dataclasses import dataclass, field

from app.models import User
from app.proxmox import get_client
from app.proxmox import guests as pve_guests
from app.proxmox.cluster import ClusterResources, Guest, cluster_resources
from app.proxmox.parallel import started
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


def start(
    user: User,
    node: str,
    guest_type: str,
    vmid: int,
    timeframe: str,
    cluster: ClusterResources | None = None,
) -> Reads:
    """The page of the guest at node/type/vmid, in two steps: the calls go out now, and the
    caller may use the database while Proxmox answers; `.page()` builds it (NotFoundError if
    user may not see the guest), with charts over timeframe (`hour` when it is not one of
    PVE's). A caller that has the cluster already passes it, and the page makes five calls."""
    if timeframe not in pve_guests.TIMEFRAMES:
        timeframe = "hour"
    ownership.check_address(user, node, guest_type, vmid)  # before any call is made
    client = get_client()
    # The cluster's answer, the largest, is asked last: decoding it does not hold up the others.
    *calls, found = started(
        lambda: pve_guests.status(client, node, guest_type, vmid),
        lambda: pve_guests.config(client, node, guest_type, vmid),
        lambda: pve_guests.recent_tasks(client, node, vmid),
        lambda: pve_guests.snapshots(client, node, guest_type, vmid),
        lambda: pve_guests.rrddata(client, node, guest_type, vmid, timeframe),
        rights.current,  # the token's privileges, for the buttons; usually cached
        (lambda: cluster) if cluster else (lambda: cluster_resources(client, vmid)),
    )
    return Reads(user, node, guest_type, vmid, timeframe, calls, found)


@dataclass
class Reads:
    """A guest page's Proxmox calls in flight."""

    user: User
    node: str
    guest_type: str
    vmid: int
    timeframe: str
    calls: list[Future]
    found: Future

    def page(self) -> GuestPage:
        """Wait for the calls and build the page (NotFoundError if the user may not see it)."""
        guest, host = ownership.locate(self.user, self.node, self.guest_type, self.vmid,
                                       self.found.result())  # fmt: skip
        if not host.online:  # its reads fail with 595 "No route to host": not waited for
            return GuestPage(guest, {"status": guest.status}, {}, [], [], [], [], [], [],
                             self.timeframe, owner=ownership.owner_of(guest),
                             node_online=False)  # fmt: skip
        wait(self.calls)  # all ended before an error is raised: its event has every breadcrumb
        status, config, recent_tasks, snapshots, samples, _ = (c.result() for c in self.calls)
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
            timeframe=self.timeframe,
            actions=available_actions(self.guest_type, status, guest.template),
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

"""Read-only views of the cluster: small typed results built from PVE's answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from app.proxmox.client import ProxmoxClient


@dataclass(frozen=True)
class Node:
    """A cluster node as /cluster/resources lists it."""

    name: str
    status: str
    cpu: float = 0.0
    maxcpu: int = 0
    mem: int = 0
    maxmem: int = 0
    uptime: int = 0

    @property
    def online(self) -> bool:
        return self.status == "online"


MIB, GIB = 2**20, 2**30  # /cluster/resources gives sizes in bytes


@dataclass(slots=True)  # not frozen: a frozen init costs a third more, for 5,000 guests a view
class Guest:
    """A QEMU VM or LXC container as /cluster/resources lists it (treat it as read-only)."""

    vmid: int
    name: str
    type: str  # qemu | lxc
    node: str
    status: str
    cpu: float = 0.0
    maxcpu: int = 0
    mem: int = 0
    maxmem: int = 0
    maxdisk: int = 0
    uptime: int = 0
    tags: tuple[str, ...] = ()
    template: bool = False
    lock: str | None = None

    @property
    def memory_mib(self) -> int:
        return self.maxmem // MIB

    @property
    def disk_gib(self) -> int:
        return self.maxdisk // GIB


@dataclass(frozen=True)
class Storage:
    """A storage as one node sees it, from /cluster/resources (sizes in bytes)."""

    name: str
    node: str
    content: tuple[str, ...] = ()
    active: bool = False
    shared: bool = False
    used: int = 0
    size: int = 0

    @property
    def free(self) -> int:
        return max(0, self.size - self.used)


@dataclass
class ClusterResources:
    """Nodes, guests and storages from a single GET /cluster/resources."""

    nodes: list[Node] = field(default_factory=list)
    guests: list[Guest] = field(default_factory=list)
    storages: list[Storage] = field(default_factory=list)


def _tags(value: Any) -> tuple[str, ...]:
    """PVE separates tags with `;` (sometimes `,` or spaces)."""
    if not value:
        return ()
    text = str(value)
    if "," in text or " " in text:
        text = text.replace(",", ";").replace(" ", ";")
    return tuple(t for t in text.split(";") if t)


def _node(item: dict) -> Node:
    return Node(
        name=item["node"],
        status=item.get("status", "unknown"),
        cpu=float(item.get("cpu") or 0),
        maxcpu=int(item.get("maxcpu") or 0),
        mem=int(item.get("mem") or 0),
        maxmem=int(item.get("maxmem") or 0),
        uptime=int(item.get("uptime") or 0),
    )


def _guest(item: dict) -> Guest:
    return Guest(
        vmid=int(item["vmid"]),
        name=item.get("name") or f"{item['type']}-{item['vmid']}",
        type=item["type"],
        node=item["node"],
        status=item.get("status", "unknown"),
        cpu=float(item.get("cpu") or 0),
        maxcpu=int(item.get("maxcpu") or 0),
        mem=int(item.get("mem") or 0),
        maxmem=int(item.get("maxmem") or 0),
        maxdisk=int(item.get("maxdisk") or 0),
        uptime=int(item.get("uptime") or 0),
        tags=_tags(item.get("tags")),
        template=bool(item.get("template")),
        lock=item.get("lock"),
    )


def _storage(item: dict) -> Storage:
    return Storage(
        name=item["storage"],
        node=item["node"],
        content=tuple(c for c in str(item.get("content") or "").split(",") if c),
        active=item.get("status") == "available",
        shared=bool(item.get("shared")),
        used=int(item.get("disk") or 0),
        size=int(item.get("maxdisk") or 0),
    )


# A process reads the whole cluster one thread at a time. On a large cluster each answer is
# megabytes while it is decoded, and five deploys started together (each reads it to place its
# app and check its user's quota) had a worker holding two or three at once, past its memory
# target at 5,000 guests. Decoding holds the GIL, so reading more at once hardly gains time.
# A turn is waited for TURN_SECONDS at most (a 5,000-guest read takes a tenth of that): a
# Proxmox that hangs must not queue every page of the worker behind it.
WHOLE_CLUSTER_READS = threading.Lock()
TURN_SECONDS = 2.0


@contextmanager
def _one_at_a_time() -> Iterator[None]:
    taken = WHOLE_CLUSTER_READS.acquire(timeout=TURN_SECONDS)
    try:
        yield
    finally:
        if taken:
            WHOLE_CLUSTER_READS.release()


def cluster_resources(client: ProxmoxClient, vmid: int | None = None) -> ClusterResources:
    """Every node, guest and storage, from exactly one API call whatever the cluster's size.
    With vmid, the guests are only the one with that VMID: a page about one guest need not
    build 5,000 (a sixth of the page's time on such a cluster)."""
    result = ClusterResources()
    with _one_at_a_time():
        for item in client.get("cluster/resources") or []:
            if item.get("type") == "node":
                result.nodes.append(_node(item))
            elif item.get("type") in ("qemu", "lxc"):
                if vmid is None or item.get("vmid") == vmid:
                    result.guests.append(_guest(item))
            elif item.get("type") == "storage":
                result.storages.append(_storage(item))
    result.nodes.sort(key=lambda n: n.name)
    return result


def storages(client: ProxmoxClient) -> list[Storage]:
    """Every node's storages, without the guests: /cluster/resources?type=storage, a few
    lines where the whole answer is megabytes on a large cluster."""
    items = client.get("cluster/resources", type="storage") or []
    return [_storage(item) for item in items if item.get("type") == "storage"]


def node_status(client: ProxmoxClient, node: str) -> dict:
    """GET /nodes/{node}/status: CPU, memory, load, uptime and versions of one node."""
    return client.get(f"nodes/{node}/status") or {}


def version(client: ProxmoxClient) -> dict:
    """GET /version: a cheap call that proves Proxmox answers and accepts our credentials."""
    return client.get("version") or {}


def storage_volumes(client: ProxmoxClient, node: str, storage: str, content: str = "vztmpl"):
    """GET /nodes/{node}/storage/{storage}/content: the volumes of one kind on a storage."""
    return client.get(f"nodes/{node}/storage/{storage}/content", content=content) or []

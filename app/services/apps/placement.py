"""Where an app can be deployed: the choices of its deploy form, and the checks across fields.

Everything comes from one /cluster/resources call (plus, for an OCI container, /version):
nodes with their free memory, storages with their free
space, the template guests and every guest's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.catalog import GUEST_TYPES, CatalogEntry
from app.extensions import db
from app.models import App, AppStatus
from app.proxmox import get_client
from app.proxmox.cluster import GIB, MIB, ClusterResources, Node, Storage, cluster_resources
from app.services.apps import catalog

AUTOMATIC = "auto"
# The content a storage must allow to hold the guest's disks.
DISK_CONTENT = {"qemu": "images", "lxc": "rootdir"}


@dataclass
class Placement:
    """A checked place for a deploy, or the field messages saying why there is none."""

    node: str = ""
    storage: str = ""
    problems: dict[str, str] = field(default_factory=dict)


@dataclass
class DeployOptions:
    """The nodes an app can go to (online, holding its source) and their disk storages."""

    entry: CatalogEntry
    runtime: str
    availability: catalog.Availability
    resources: ClusterResources
    nodes: list[Node]
    storages: dict[str, list[Storage]]  # node name -> storages for the guest's disks
    templates: dict[str, int]  # node name -> VMID of the app's template there (VM apps)

    def storage_names(self) -> list[str]:
        return sorted({s.name for storages in self.storages.values() for s in storages})

    def free_memory_mib(self, node: Node) -> int:
        return max(0, node.maxmem - node.mem) // MIB

    def place(self, node_name: str, storage: str, cores: int, memory: int, disk: int) -> Placement:
        """Check a node (or AUTOMATIC: the fitting node with the most free memory) and storage
        against the resources asked for (memory in MiB, disk in GiB)."""
        if node_name != AUTOMATIC:
            node = next((n for n in self.nodes if n.name == node_name), None)
            if node is None:
                return Placement(problems={"node": "Choose one of the nodes listed."})
            return self._check(node, storage, cores, memory, disk)
        checked = [self._check(n, storage, cores, memory, disk) for n in self.nodes]
        fitting = [p for p in checked if not p.problems]
        if fitting:
            by_name = {n.name: n for n in self.nodes}
            return max(fitting, key=lambda p: (self.free_memory_mib(by_name[p.node]), p.node))
        if not checked:
            return Placement(problems={"node": "No online node holds this app's source."})
        return Placement(problems=_no_node_fits(checked))

    def _check(self, node: Node, storage: str, cores: int, memory: int, disk: int) -> Placement:
        problems: dict[str, str] = {}
        store = next((s for s in self.storages.get(node.name, []) if s.name == storage), None)
        if store is None:
            problems["storage"] = f"{node.name} has no storage {storage!r} for guest disks."
        elif store.size and disk * GIB > store.free:
            problems["disk"] = f"{storage} on {node.name} has {store.free // GIB} GiB free."
        if node.maxcpu and cores > node.maxcpu:
            problems["cores"] = f"{node.name} has {node.maxcpu} cores."
        if node.maxmem and memory > self.free_memory_mib(node):
            problems["memory"] = f"{node.name} has {self.free_memory_mib(node)} MiB free."
        return Placement(node.name, storage, problems)


def _no_node_fits(checked: list[Placement]) -> dict[str, str]:
    """Field messages for "automatic" when no node fits: each field's most generous answer."""
    problems: dict[str, str] = {}
    for placement in checked:
        for name, message in placement.problems.items():
            problems.setdefault(name, "No node fits: " + message)
    return problems


def options_for(entry: CatalogEntry, runtime: str = "vm") -> DeployOptions:
    """The nodes and storages the app can be deployed to in runtime on this cluster now."""
    resources = cluster_resources(get_client())
    available = catalog.availability(entry, runtime, resources)
    nodes = [n for n in resources.nodes if n.name in set(available.nodes)]
    content = DISK_CONTENT[GUEST_TYPES[runtime]]
    usable = [s for s in resources.storages if s.active and content in s.content]
    storages = {
        n.name: sorted((s for s in usable if s.node == n.name), key=lambda s: s.name) for n in nodes
    }
    templates = {
        g.node: g.vmid
        for g in resources.guests
        if g.template and g.type == "qemu" and g.name == entry.vm_template
    }
    return DeployOptions(entry, runtime, available, resources, nodes, storages, templates)


def name_taken(resources: ClusterResources, name: str) -> bool:
    """True if a guest of the cluster has name, or an app being made or kept by the portal
    (anyone's: its guest may not exist yet). The same answer for everyone, so it tells no
    one what others run."""
    wanted = name.lower()
    if any(g.name.lower() == wanted for g in resources.guests):
        return True
    query = select(App.id).where(
        func.lower(App.name) == wanted, App.status.not_in((AppStatus.FAILED, AppStatus.DELETED))
    )
    return db.session.scalar(query.limit(1)) is not None

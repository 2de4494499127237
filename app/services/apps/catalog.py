"""The catalog as users browse it: filtering, and whether this cluster has an app's source."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from app.catalog import CatalogEntry
from app.exceptions import NotFoundError, ProxmoxError
from app.proxmox import get_client
from app.proxmox.cluster import ClusterResources, Guest, cluster_resources, storage_volumes

SEARCH_MAX = 100


def all_apps() -> list[CatalogEntry]:
    """Every app, by name."""
    return sorted(current_app.extensions["catalog"].values(), key=lambda a: a.name.lower())


def categories() -> list[str]:
    return sorted({entry.category for entry in all_apps()})


def get(app_id: str) -> CatalogEntry:
    """The app with this id; NotFoundError otherwise."""
    entry = find(app_id)
    if entry is None:
        raise NotFoundError("There is no such app in the catalog.")
    return entry


TEMPLATE_PREFIX = "tpl-"
# What a VM made from a template asks for, besides name and resources.
TEMPLATE_INPUTS = [
    {"name": "user", "label": "Cloud-init user", "type": "string", "target": "ciuser",
     "required": True, "default": "admin", "pattern": "^[a-z_][a-z0-9_-]{0,31}$",
     "help": "Lower-case letters, digits, '-' and '_'."},
    {"name": "ssh_key", "label": "SSH public key", "type": "ssh-key", "target": "sshkeys",
     "required": True},
]  # fmt: skip


def input_labels(app_id: str) -> dict[str, str]:
    """The labels of an app's inputs by name, without asking Proxmox (for every poll)."""
    if app_id.startswith(TEMPLATE_PREFIX):
        return {str(field["name"]): str(field["label"]) for field in TEMPLATE_INPUTS}
    entry = current_app.extensions["catalog"].get(app_id)
    return {field.name: field.label for field in entry.inputs} if entry else {}


def find(app_id: str) -> CatalogEntry | None:
    """The app with this id — from the catalog, or `tpl-<vmid>`: a VM template of the cluster
    (one Proxmox call) — or None (e.g. an app deployed before it left the catalog)."""
    entry = current_app.extensions["catalog"].get(app_id)
    if entry is None and app_id.startswith(TEMPLATE_PREFIX):
        vmid = app_id.removeprefix(TEMPLATE_PREFIX)
        if vmid.isdigit() and len(vmid) < 10:
            return next((t for t in templates() if t.id == app_id), None)
    return entry


def templates() -> list[CatalogEntry]:
    """Every QEMU template of the cluster as an app: a VM made from it with cloud-init (a
    user and an SSH key), its resources chosen on the form (one Proxmox call)."""
    return [
        template_app(g) for g in cluster_resources(get_client()).guests
        if g.template and g.type == "qemu"
    ]  # fmt: skip


def template_app(template: Guest) -> CatalogEntry:
    """The app that makes a VM from this template, through the deploy pipeline."""
    cores, memory = max(1, template.maxcpu), max(256, template.memory_mib)
    disk = max(1, template.disk_gib)
    return CatalogEntry.model_validate({
        "id": f"{TEMPLATE_PREFIX}{template.vmid}", "name": template.name,
        "description": f"A VM cloned from the template {template.name} on {template.node}, "
                       "with a cloud-init user and SSH key.",
        "category": "Templates", "version": "-", "website": "https://pve.proxmox.com/",
        "icon": "template.svg", "guest_type": "qemu", "source": {"template": template.name},
        "resources": {"cores": {"default": cores, "minimum": 1},
                      "memory": {"default": memory, "minimum": 128},
                      "disk": {"default": disk, "minimum": disk}},
        "inputs": TEMPLATE_INPUTS,
        "outputs": [{"label": "SSH", "value": "ssh://{user}@{ip}/", "kind": "text"}],
    })  # fmt: skip


def search(category: str, text: str) -> list[CatalogEntry]:
    """Apps in category (all when empty) whose name or description holds text."""
    needle = text.strip().lower()[:SEARCH_MAX]
    return [
        entry
        for entry in all_apps()
        if (not category or entry.category == category)
        and (not needle or needle in entry.name.lower() or needle in entry.description.lower())
    ]


@dataclass
class Availability:
    """Where the app's source is on this cluster (empty: nowhere, so it cannot be deployed)."""

    nodes: list[str]
    source: str

    @property
    def ready(self) -> bool:
        return bool(self.nodes)


def availability(entry: CatalogEntry, resources: ClusterResources | None = None) -> Availability:
    """The online nodes that hold the app's template guest or ostemplate volume.

    One call for a template (cluster/resources, unless given); for an ostemplate, one more per
    online node.
    """
    resources = resources or cluster_resources(get_client())
    online = [n.name for n in resources.nodes if n.online]
    if entry.source.template:
        nodes = sorted(
            g.node
            for g in resources.guests
            if g.template and g.name == entry.source.template and g.node in online
        )
        return Availability(nodes, f"template {entry.source.template}")
    volume = entry.source.ostemplate or ""
    nodes = [node for node in online if volume in _vztmpl_volumes(node, volume.partition(":")[0])]
    return Availability(nodes, f"container template {volume}")


def _vztmpl_volumes(node: str, storage: str) -> set[str]:
    try:
        return {v.get("volid") for v in storage_volumes(get_client(), node, storage)}
    except ProxmoxError as error:
        if error.kind != "api":  # Proxmox down: the page says so
            raise
        return set()  # no such storage on this node

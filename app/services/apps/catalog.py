"""The catalog as users browse it: filtering, and where on this cluster an app can run."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app

from app.catalog import BASE_ID, BASE_TEMPLATE, CatalogEntry
from app.exceptions import NotFoundError
from app.proxmox import get_client
from app.proxmox.cluster import ClusterResources, Guest, cluster_resources, version

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
    if app_id == BASE_ID:
        return {"image_storage": "Image storage", "seed_storage": "Seed ISO storage"}
    if app_id.startswith(TEMPLATE_PREFIX):
        return {str(field["name"]): str(field["label"]) for field in TEMPLATE_INPUTS}
    entry = find_in_catalog(app_id)
    return {field.name: field.label for field in entry.inputs} if entry else {}


def find_in_catalog(app_id: str) -> CatalogEntry | None:
    """The catalog's app with this id, without asking Proxmox (None for a template VM)."""
    return current_app.extensions["catalog"].get(app_id)


def base_entry() -> CatalogEntry:
    """What a build of the base template is, as an app (app.services.apps.base_builds)."""
    return CatalogEntry.model_validate({
        "id": BASE_ID, "name": "Base template (Debian 13)", "category": "Templates",
        "description": "Debian 13 with the QEMU guest agent and Docker Compose, made into a VM "
                       "template: every Compose app's VM is cloned from it.",
        "version": "13", "website": "https://cloud.debian.org/images/cloud/",
        "icon": "template.svg", "template": BASE_TEMPLATE,
        "resources": {"cores": {"default": 1, "minimum": 1},
                      "memory": {"default": 1024, "minimum": 512},
                      "disk": {"default": 3, "minimum": 3}},
        "outputs": [{"label": "Template", "value": "{name} (VMID {vmid})"}],
    })  # fmt: skip


def find(app_id: str) -> CatalogEntry | None:
    """The app with this id — from the catalog, or `tpl-<vmid>`: a VM template of the cluster
    (one Proxmox call) — or None (e.g. an app deployed before it left the catalog)."""
    if app_id == BASE_ID:
        return base_entry()
    entry = find_in_catalog(app_id)
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
        "icon": "template.svg", "template": template.name,
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


OCI_SINCE = (9, 1)  # the Proxmox VE release that runs OCI images as containers


@dataclass
class Availability:
    """Where an app can run in one runtime on this cluster (no nodes: it cannot, and `why`)."""

    nodes: list[str]
    source: str
    why: str = ""

    @property
    def ready(self) -> bool:
        return bool(self.nodes)


def availability(
    entry: CatalogEntry, runtime: str = "vm", resources: ClusterResources | None = None
) -> Availability:
    """For "vm": the online nodes that hold the app's VM template (one call, unless given).
    For "oci": the online nodes with a container-template storage, when Proxmox is 9.1 or
    later (one more call: /version)."""
    resources = resources or cluster_resources(get_client())
    online = [n.name for n in resources.nodes if n.online]
    if runtime == "vm":
        template = entry.vm_template
        nodes = sorted(
            g.node for g in resources.guests
            if g.template and g.type == "qemu" and g.name == template and g.node in online
        )  # fmt: skip
        why = "" if nodes else f"No online node holds the VM template {template}."
        return Availability(nodes, f"VM template {template}", why)
    release = pve_release()
    source = "OCI image, pulled by Proxmox"
    if release < OCI_SINCE:
        shown = ".".join(str(n) for n in release)
        why = f"OCI containers need Proxmox VE 9.1 or later; this cluster runs {shown}."
        return Availability([], source, why)
    nodes = sorted({
        s.node for s in resources.storages
        if s.active and "vztmpl" in s.content and s.node in online
    })  # fmt: skip
    why = "" if nodes else "No online node has a storage for container templates."
    return Availability(nodes, source, why)


def pve_release() -> tuple[int, int]:
    """The Proxmox VE release (major, minor) from /version, e.g. (9, 1)."""
    text = str(version(get_client()).get("version") or "0.0")
    parts = [int(p) for p in re.findall(r"\d+", text)[:2]]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]

"""The catalog as users browse it: filtering, and whether this cluster has an app's source."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from app.catalog import CatalogApp
from app.exceptions import NotFoundError, ProxmoxError
from app.proxmox import get_client
from app.proxmox.cluster import ClusterResources, cluster_resources, storage_volumes

SEARCH_MAX = 100


def all_apps() -> list[CatalogApp]:
    """Every app, by name."""
    return sorted(current_app.extensions["catalog"].values(), key=lambda a: a.name.lower())


def categories() -> list[str]:
    return sorted({app.category for app in all_apps()})


def get(app_id: str) -> CatalogApp:
    """The app with this id; NotFoundError otherwise."""
    app = find(app_id)
    if app is None:
        raise NotFoundError("There is no such app in the catalog.")
    return app


def find(app_id: str) -> CatalogApp | None:
    """The app with this id, or None (an app deployed before it left the catalog)."""
    return current_app.extensions["catalog"].get(app_id)


def search(category: str, text: str) -> list[CatalogApp]:
    """Apps in category (all when empty) whose name or description holds text."""
    needle = text.strip().lower()[:SEARCH_MAX]
    return [
        app
        for app in all_apps()
        if (not category or app.category == category)
        and (not needle or needle in app.name.lower() or needle in app.description.lower())
    ]


@dataclass
class Availability:
    """Where the app's source is on this cluster (empty: nowhere, so it cannot be deployed)."""

    nodes: list[str]
    source: str

    @property
    def ready(self) -> bool:
        return bool(self.nodes)


def availability(app: CatalogApp, resources: ClusterResources | None = None) -> Availability:
    """The online nodes that hold the app's template guest or ostemplate volume.

    One call for a template (cluster/resources, unless given); for an ostemplate, one more per
    online node.
    """
    resources = resources or cluster_resources(get_client())
    online = [n.name for n in resources.nodes if n.online]
    if app.source.template:
        nodes = sorted(
            g.node
            for g in resources.guests
            if g.template and g.name == app.source.template and g.node in online
        )
        return Availability(nodes, f"template {app.source.template}")
    volume = app.source.ostemplate or ""
    nodes = [node for node in online if volume in _vztmpl_volumes(node, volume.partition(":")[0])]
    return Availability(nodes, f"container template {volume}")


def _vztmpl_volumes(node: str, storage: str) -> set[str]:
    try:
        return {v.get("volid") for v in storage_volumes(get_client(), node, storage)}
    except ProxmoxError as error:
        if error.kind != "api":  # Proxmox down: the page says so
            raise
        return set()  # no such storage on this node

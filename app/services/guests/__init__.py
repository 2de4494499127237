"""Guests: the guest page, its actions, settings, backups, addresses, charts, and the Proxmox
rights that decide which buttons it shows."""

# the cluster, guest and node views are handed to blueprints from here
from app.proxmox.cluster import ClusterResources, Guest, Node

__all__ = ["ClusterResources", "Guest", "Node"]

"""Guests: the guest page, its actions, settings, backups, addresses, charts, and the Proxmox
rights that decide which buttons it shows."""

from app.proxmox.cluster import Guest, Node  # the guest and node views are handed

__all__ = ["Guest", "Node"]

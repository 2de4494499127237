"""Proxmox VE access. The only package that imports proxmoxer."""

from dataclasses import replace

from flask import current_app

from app.proxmox.client import ProxmoxClient, ProxmoxSettings


def init_app(app) -> None:
    """Create the app's ProxmoxClients (they connect lazily, on first use): one for every
    call, and one that waits only GUEST_AGENT_TIMEOUT, for answers a page can do without."""
    settings = ProxmoxSettings.from_config(app.config)
    app.extensions["proxmox"] = ProxmoxClient(settings)
    quick = replace(settings, timeout=app.config["GUEST_AGENT_TIMEOUT"])
    app.extensions["proxmox_quick"] = ProxmoxClient(quick)


def get_client(quick: bool = False) -> ProxmoxClient:
    """The current app's ProxmoxClient, or with quick, the one with the short timeout."""
    return current_app.extensions["proxmox_quick" if quick else "proxmox"]


__all__ = ["ProxmoxClient", "ProxmoxSettings", "get_client", "init_app"]

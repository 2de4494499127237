"""Proxmox VE access. The only package that imports proxmoxer."""

from flask import current_app

from app.proxmox.client import ProxmoxClient, ProxmoxSettings


def init_app(app) -> None:
    """Create the app's one ProxmoxClient (it connects lazily, on first use)."""
    app.extensions["proxmox"] = ProxmoxClient(ProxmoxSettings.from_config(app.config))


def get_client() -> ProxmoxClient:
    """The current app's ProxmoxClient."""
    return current_app.extensions["proxmox"]


__all__ = ["ProxmoxClient", "ProxmoxSettings", "get_client", "init_app"]

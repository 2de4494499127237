"""What Proxmox lets the portal's own credentials do."""

from __future__ import annotations

from app.proxmox.client import ProxmoxClient


def permissions(client: ProxmoxClient) -> dict[str, frozenset[str]]:
    """GET /access/permissions: the privileges the portal's token (or user) holds, per ACL path."""
    answer = client.get("access/permissions") or {}
    return {
        path: frozenset(name for name, held in privileges.items() if held)
        for path, privileges in answer.items()
    }

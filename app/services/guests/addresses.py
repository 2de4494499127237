"""A guest's IP addresses: from its QEMU guest agent, or from a container's interfaces.

The guest page loads them on their own, after the page, through a client with a short
timeout (GUEST_AGENT_TIMEOUT): an agent that does not answer never holds the page up.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from flask import current_app

from app.exceptions import ProxmoxError
from app.proxmox import get_client
from app.proxmox import guests as pve
from app.proxmox.cluster import Guest


@dataclass(frozen=True)
class Address:
    """One address of one interface; `ip` without its prefix."""

    interface: str
    ip: str
    prefix: str
    version: int


@dataclass
class Lookup:
    """What the page shows: the addresses, or why there are none."""

    addresses: list[Address] = field(default_factory=list)
    problem: str | None = None


def usable(interfaces: list[dict]) -> list[Address]:
    """The addresses in PVE's interface lists (agent or container), without the loopback
    interface and link-local addresses. (The demo leases 127.77.x.y: loopback, but not `lo`.)"""
    found = []
    for interface in interfaces:
        name = str(interface.get("name", ""))
        if name == "lo":
            continue
        for entry in interface.get("ip-addresses") or []:
            try:
                ip = ipaddress.ip_address(str(entry.get("ip-address")))
            except ValueError:
                continue
            if not (ip.is_link_local or ip.is_unspecified):
                found.append(Address(name, str(ip), str(entry.get("prefix", "")), ip.version))
    return found


def look_up(guest: Guest) -> Lookup:
    """The guest's addresses, or a plain reason (not running, no agent, no answer in time).
    Anything else (Proxmox away, credentials refused) is raised for the caller to report."""
    if guest.status != "running":
        return Lookup(problem=f"{guest.name} is not running.")
    try:
        found = pve.interfaces(get_client(quick=True), guest.node, guest.type, guest.vmid)
    except ProxmoxError as error:
        if error.kind == "timeout":
            seconds = current_app.config["GUEST_AGENT_TIMEOUT"]
            return Lookup(problem=f"No answer within {seconds:g} s: the guest agent may be busy.")
        if error.kind != "api":
            raise
        if error.status_code == 403:
            return Lookup(problem=f"Proxmox does not let the portal read them: {error.pve_message}")
        if guest.type == "qemu":
            return Lookup(problem=f"Agent not running ({error.pve_message}). Install "
                          "qemu-guest-agent in the VM and turn on its QEMU Guest Agent option "
                          "to see its addresses here.")  # fmt: skip
        raise
    addresses = usable(found)
    return Lookup(addresses, None if addresses else "The guest reports no addresses yet.")

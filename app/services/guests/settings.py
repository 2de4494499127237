"""Changing a guest's configuration: cores, memory, disk (grow only), description, start on
boot, and tags (admins).

A change is applied with the config `digest` the form was opened with: when someone changed the
guest meanwhile (in Proxmox, or another portal user), nothing is written and the form comes back
with the new values — a change is never overwritten. On a running guest, PVE keeps what cannot
be hot-plugged as *pending* until the next start; the form shows that. Growing the disk is a
Proxmox task (followed like any other).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from app.exceptions import ProxmoxError
from app.extensions import db
from app.models import User
from app.proxmox import deploys as pve_deploys
from app.proxmox import get_client
from app.proxmox import guests as pve_guests
from app.proxmox.cluster import MIB, Guest, Node
from app.services import audit, quotas, tasks

# What PVE answers when the digest no longer matches (QEMU, LXC).
STALE = ("checksum mismatch", "detected modified configuration")


@dataclass
class Settings:
    """What the form changes, as the guest has it (memory in MiB, disk in GiB)."""

    cores: int
    memory: int
    disk: int
    description: str
    onboot: bool
    tags: str


@dataclass
class Current:
    """A guest's settings now, its digest, its boot disk and what waits for the next start."""

    settings: Settings
    digest: str
    disk_key: str | None
    pending: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (now, next start)


@dataclass
class Outcome:
    """What a change did: saved keys (old -> new), a disk task, or why nothing was written."""

    changed: dict[str, tuple[object, object]] = field(default_factory=dict)
    task: tasks.Task | None = None
    stale: dict[str, object] = field(default_factory=dict)  # field -> its value in Proxmox now
    problems: dict[str, str] = field(default_factory=dict)  # field -> message


def read(guest: Guest) -> Current:
    """The guest's settings, digest and pending changes (two Proxmox calls)."""
    client = get_client()
    current = _current(guest)
    entries = pve_guests.pending(client, guest.node, guest.type, guest.vmid)
    current.pending = {
        e["key"]: (str(e.get("value", "")), "(removed)" if e.get("delete") else str(e["pending"]))
        for e in entries
        if "pending" in e or e.get("delete")
    }
    return current


def _current(guest: Guest) -> Current:
    """The guest's settings and digest (one Proxmox call)."""
    config = pve_guests.config(get_client(), guest.node, guest.type, guest.vmid)
    disk_key = pve_guests.boot_disk(config, guest.type)
    settings = Settings(
        cores=int(config.get("cores") or 1),
        memory=int(config.get("memory") or 512),
        disk=int(pve_guests.disk_size_gib(str(config.get(disk_key, "")))) if disk_key else 0,
        description=str(config.get("description") or ""),
        onboot=str(config.get("onboot", "0")) == "1",
        tags=";".join(sorted(t for t in re.split(r"[;, ]+", str(config.get("tags") or "")) if t)),
    )
    return Current(settings, str(config.get("digest") or ""), disk_key)


def change(
    user: User, guest: Guest, host: Node, wanted: Settings, opened: Settings, digest: str,
    request_key: str,
) -> Outcome:  # fmt: skip
    """Apply what differs between wanted and the guest's settings in Proxmox now.

    `opened` (the values the form was opened with) only says what changed meanwhile when the
    digest no longer matches: it comes from the browser, so growth and the audited "from"
    values are always Proxmox's own. Checks first — disks only grow, the node's cores and
    memory, then the user's quota (quotas.QuotaExceeded) — then the config (with the digest:
    a change landing between this read and the write is refused by Proxmox and shown), then
    the disk (a task). Audited with old -> new values.
    """
    now = _current(guest)
    if now.digest != digest:
        return Outcome(stale=_differences(opened, now.settings))
    changed = {
        f.name: (getattr(now.settings, f.name), getattr(wanted, f.name))
        for f in fields(Settings)
        if getattr(now.settings, f.name) != getattr(wanted, f.name)
    }
    if not user.is_admin:
        changed.pop("tags", None)
    problems = _check(user, guest, host, now, changed)
    if problems or not changed:
        return Outcome(problems=problems)
    values = _config_values(changed)
    target = audit.target_of(guest.type, guest.vmid, guest.node)
    if values:
        try:
            pve_guests.update_config(
                get_client(), guest.node, guest.type, guest.vmid, digest, **values
            )
        except ProxmoxError as error:
            if any(text in (error.pve_message or "") for text in STALE):
                return Outcome(stale=_differences(opened, _current(guest).settings))
            raise
    detail = ", ".join(f"{k} {old} → {new}" for k, (old, new) in changed.items())
    outcome = Outcome(changed=changed)
    if "disk" in changed and now.disk_key:
        size = int(changed["disk"][1])
        outcome.task = tasks.start(
            user, guest, "resize",
            lambda c: pve_deploys.resize_disk(
                c, guest.node, guest.type, guest.vmid, str(now.disk_key), size),
            request_key, detail,
        )  # fmt: skip
    else:
        audit.record(user, "config", target, "done", detail)
        db.session.commit()
    return outcome


def _differences(opened: Settings, now: Settings) -> dict[str, object]:
    return {
        f.name: getattr(now, f.name)
        for f in fields(Settings)
        if getattr(opened, f.name) != getattr(now, f.name)
    }


def _check(user: User, guest: Guest, host: Node, now: Current, changed: dict) -> dict[str, str]:
    problems: dict[str, str] = {}
    if "disk" in changed:
        old, new = changed["disk"]
        if now.disk_key is None:
            problems["disk"] = "This guest has no disk the portal can grow."
        elif new < now.settings.disk:
            problems["disk"] = f"Disks can only grow: it is {now.settings.disk} GiB."
    if "cores" in changed and host.maxcpu and changed["cores"][1] > host.maxcpu:
        problems["cores"] = f"{host.name} has {host.maxcpu} cores."
    if "memory" in changed and host.maxmem:
        grows = changed["memory"][1] - changed["memory"][0]
        free = max(0, host.maxmem - host.mem) // MIB
        if grows > free:
            problems["memory"] = f"{host.name} has {free} MiB free."
    if not problems:  # QuotaExceeded, for the page to show and report
        grows = {k: changed[k][1] - changed[k][0] for k in quotas.RESOURCES if k in changed}
        quotas.check(user, grows, "change")
    return problems


def _config_values(changed: dict) -> dict[str, object]:
    """The PUT config parameters for the changed settings (the disk is resized apart)."""
    values: dict[str, object] = {}
    for key, (_old, new) in changed.items():
        if key in ("cores", "memory", "description", "tags"):
            values[key] = new
        elif key == "onboot":
            values["onboot"] = 1 if new else 0
    return values

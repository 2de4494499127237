"""Is the portal healthy: the database answers, and Proxmox did at its last probe (cached, so
however often /healthz is asked, each process calls Proxmox at most every PROBE_INTERVAL s)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import text

from app.exceptions import ProxmoxError
from app.extensions import db
from app.proxmox import get_client
from app.proxmox.cluster import version

# However often /healthz is asked, each process calls Proxmox at most once per this many seconds.
PROBE_INTERVAL = 5.0


@dataclass
class Probe:
    """The last Proxmox probe of this process: its result and when it was made."""

    ok: bool = False
    checked_at: float = float("-inf")  # time.monotonic()
    lock: threading.Lock = field(default_factory=threading.Lock)


def database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return False


def proxmox_probe() -> tuple[bool, float]:
    """(ok, age in seconds) of this process's probe, refreshed when older than PROBE_INTERVAL.

    One request refreshes it; requests that arrive meanwhile answer from the last result,
    so a hanging Proxmox holds up one request, not all of them.
    """
    probe: Probe = current_app.extensions.setdefault("health_probe", Probe())
    if time.monotonic() - probe.checked_at >= PROBE_INTERVAL and probe.lock.acquire(blocking=False):
        try:
            try:
                version(get_client())
                probe.ok = True
            except ProxmoxError:
                probe.ok = False
            probe.checked_at = time.monotonic()
        finally:
            probe.lock.release()
    age = time.monotonic() - probe.checked_at
    return probe.ok, age

"""/healthz: is the database answering, and is Proxmox (from a cached probe)?"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.exceptions import ProxmoxError
from app.extensions import db
from app.proxmox import get_client
from app.proxmox.cluster import version

bp = Blueprint("health", __name__)

# However often /healthz is asked, each process calls Proxmox at most once per this many seconds.
PROBE_INTERVAL = 5.0


@dataclass
class Probe:
    """The last Proxmox probe of this process: its result and when it was made."""

    ok: bool = False
    checked_at: float = float("-inf")  # time.monotonic()
    lock: threading.Lock = field(default_factory=threading.Lock)


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return False


def _proxmox_probe() -> tuple[bool, float]:
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


@bp.route("/healthz")
def healthz():
    """200 with both checks `ok`, 503 otherwise. No login; no secrets, no addresses."""
    database = _database_ok()
    proxmox, age = _proxmox_probe()
    healthy = database and proxmox
    body = {
        "status": "ok" if healthy else "error",
        "database": "ok" if database else "error",
        "proxmox": "ok" if proxmox else "error",
        "proxmox_checked_seconds_ago": round(age, 1) if age != float("inf") else None,
        "version": current_app.config["APP_VERSION"],
    }
    return jsonify(body), 200 if healthy else 503

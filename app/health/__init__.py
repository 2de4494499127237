"""/healthz: is the database answering, and is Proxmox (from a cached probe)?"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from app.services import health

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    """200 with both checks `ok`, 503 otherwise. No login; no secrets, no addresses."""
    database = health.database_ok()
    proxmox, age = health.proxmox_probe()
    healthy = database and proxmox
    body = {
        "status": "ok" if healthy else "error",
        "database": "ok" if database else "error",
        "proxmox": "ok" if proxmox else "error",
        "proxmox_checked_seconds_ago": round(age, 1) if age != float("inf") else None,
        "version": current_app.config["APP_VERSION"],
    }
    return jsonify(body), 200 if healthy else 503

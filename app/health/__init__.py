"""/healthz: is the database answering, and is Proxmox?"""

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.errors import ProxmoxError
from app.extensions import db, limiter
from app.proxmox import get_client
from app.proxmox.cluster import version

bp = Blueprint("health", __name__)


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return False


def _proxmox_ok() -> bool:
    try:
        version(get_client())
        return True
    except ProxmoxError:
        return False


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """200 with both checks `ok`, 503 otherwise. No login; no secrets."""
    database, proxmox = _database_ok(), _proxmox_ok()
    healthy = database and proxmox
    body = {
        "status": "ok" if healthy else "error",
        "database": "ok" if database else "error",
        "proxmox": "ok" if proxmox else "error",
        "version": current_app.config["APP_VERSION"],
    }
    return jsonify(body), 200 if healthy else 503

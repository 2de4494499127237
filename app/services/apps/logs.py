"""The last lines of an app's own logs, on demand: `docker compose logs` in its VM through the
guest agent (a bounded wait: this runs in a web request), its secrets blanked."""

from __future__ import annotations

import time

from app.exceptions import AppServiceError
from app.models import App
from app.proxmox import deploys as pve
from app.proxmox import get_client
from app.services.apps import catalog
from app.services.apps.deploy import guest
from app.services.apps.deploy.compose_vm import ENV_FILE, compose, parse_env
from app.services.apps.deploy.plans import HIDDEN

LINES = 200
WAIT_SECONDS = 15.0


def tail(app: App, lines: int = LINES) -> str:
    """The app's last log lines (all its services), secrets blanked."""
    entry = catalog.find_in_catalog(app.catalog_id)
    if entry is None or entry.compose is None or app.vmid is None:
        raise AppServiceError(f"{app.name} has no Compose logs to show.")
    if app.guest_type != "qemu":
        raise AppServiceError(
            "Proxmox has no API to read an OCI container's output: open its Console instead."
        )
    client = get_client()
    argv = compose("logs", "--no-color", "--timestamps", "--tail", str(lines))
    answer = pve.agent(client, app.node, app.vmid, "exec", command=argv) or {}
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        status = pve.agent(client, app.node, app.vmid, "exec-status", pid=answer.get("pid")) or {}
        if status.get("exited"):
            text = str(status.get("out-data") or "") + str(status.get("err-data") or "")
            env = parse_env(guest.read_file(client, app.node, app.vmid, ENV_FILE) or "")
            for item in entry.inputs:
                value = env.get(item.variable)
                if item.is_secret and value:
                    text = text.replace(value, HIDDEN)
            return text
        time.sleep(0.3)
    raise AppServiceError(f"{app.name}'s VM did not give its logs within {WAIT_SECONDS:g} s.")

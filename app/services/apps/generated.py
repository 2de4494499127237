"""An app's generated secrets, shown to its owner when they ask: read from the guest itself
(a VM's .env through its guest agent, a container's environment from its config), never
kept by the portal."""

from __future__ import annotations

from app.exceptions import AppServiceError
from app.models import SETTLED, App, User
from app.proxmox import get_client
from app.proxmox import guests as pve_guests
from app.services import audit
from app.services.apps import catalog
from app.services.apps.deploy import guest
from app.services.apps.deploy.compose_vm import ENV_FILE, generated_secrets, parse_env


def has_generated(app: App) -> bool:
    """True when the app's catalog entry makes secrets for it."""
    entry = catalog.find_in_catalog(app.catalog_id)
    return entry is not None and any(i.type == "generated" for i in entry.inputs)


def reveal(user: User, app: App) -> dict[str, str]:
    """{label: value} of the app's generated secrets, as its guest holds them now."""
    entry = catalog.find_in_catalog(app.catalog_id)
    if entry is None or app.status not in SETTLED or app.vmid is None:
        raise AppServiceError(f"{app.name} has no secrets to show now.")
    client = get_client()
    if app.guest_type == "qemu":
        text = guest.read_file(client, app.node, app.vmid, ENV_FILE)
        if text is None:
            raise AppServiceError(
                f"{app.name}'s VM did not answer (is it running, with its guest agent?)."
            )
        env = parse_env(text)
    else:
        config = pve_guests.config(client, app.node, "lxc", app.vmid)
        pairs = str(config.get("env") or "").split("\0")
        env = dict(pair.partition("=")[::2] for pair in pairs if "=" in pair)
    audit.record(user, "show-secrets", f"{app.catalog_id} {app.name}", "done")
    return generated_secrets(entry, env)

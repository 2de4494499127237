"""The portal's domain errors. No Flask here: the Proxmox layer and services import these.

app.errors turns each into a page (and a Sentry event where one is due).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class ProxmoxError(Exception):
    """A failed Proxmox API call, with what a person needs to act on it.

    `status_code` is what Proxmox answered (None when it never answered);
    `http_status` is what the portal answers its own user (502, 503 or 504).
    """

    message: str
    kind: str = "api"  # api | auth | unreachable | timeout | tls | config | task
    status_code: int | None = None
    pve_message: str | None = None
    errors: dict | None = None
    api_method: str | None = None
    api_path: str | None = None
    node: str | None = None
    vmid: int | None = None
    upid: str | None = None
    hint: str | None = None
    http_status: int = 502

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def public_message(self) -> str:
        """What any user may read: PVE's reason for a refusal or a failed task; otherwise only
        what happened. Proxmox's address, API paths and the portal's credentials are for
        admins (the whole `message`, and Sentry)."""
        if self.kind in ("api", "task") and self.pve_message:
            return self.pve_message
        return PUBLIC_MESSAGES.get(self.kind, PUBLIC_MESSAGES["unreachable"])

    def message_for(self, admin: bool) -> str:
        """The whole message for an admin, the public one for anyone else."""
        return self.message if admin else self.public_message


PUBLIC_MESSAGES = {
    "unreachable": "Proxmox VE could not be reached.",
    "timeout": "Proxmox VE did not answer in time.",
    "auth": "Proxmox VE refused the portal's credentials.",
    "tls": "Proxmox VE's certificate could not be verified.",
    "config": "The portal's connection to Proxmox VE is not set up.",
    "api": "Proxmox VE refused the request.",
    "task": "A Proxmox VE task failed.",
}


@dataclass(eq=False)
class AppServiceError(Exception):
    """A refusal by the portal's own service layer, with a message fit for the user."""

    message: str
    http_status: int = 400
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class NotFoundError(Exception):
    """What a service raises for a thing that does not exist or that the user may not see.

    Both answer 404 with the same message, so the existence of others' guests does not leak.
    It is not reported to Sentry: it is the answer, not a failure.
    """

    def __init__(self, message: str = "There is nothing here that you can see."):
        super().__init__(message)
        self.message = message


class ConfigurationError(Exception):
    """The portal cannot start with what it was given (wsgi.py shows the message and exits)."""

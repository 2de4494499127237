"""Secret deploy inputs (passwords) between the form and the worker: encrypted at rest.

The web request seals them with a key derived from SECRET_KEY (Fernet: AES with an HMAC);
the worker unseals them for the steps that pass them to Proxmox; the deploy wipes them when it
ends. They are never written in clear to the database, the job queue, logs or Sentry.
"""

from __future__ import annotations

import json

from app.exceptions import AppServiceError
from app.services.access import sealing

PURPOSE = "portal deploy secrets"


def seal(values: dict[str, str]) -> str | None:
    """Encrypt a {name: secret} dict (None when there is nothing to keep)."""
    if not values:
        return None
    return sealing.seal(PURPOSE, json.dumps(values))


def unseal(token: str | None) -> dict[str, str]:
    """The {name: secret} dict back; AppServiceError when SECRET_KEY changed meanwhile."""
    if not token:
        return {}
    try:
        return json.loads(sealing.unseal(PURPOSE, token))
    except sealing.Unreadable:
        raise AppServiceError(
            "The deploy's secret inputs cannot be read: SECRET_KEY changed since it was started."
        ) from None

"""Everything Sentry, and the only package that imports sentry_sdk.

- setup.py: `init_sentry` (environment, sampling, integrations, static contexts) and the
  one warning when events cannot be delivered;
- scopes.py: the request's user, `capture` (one event, its tags and context), isolated
  scopes and breadcrumbs for jobs, spans around Proxmox calls;
- scrubbing.py: what never leaves the machine (denylisted keys, configured secrets, values
  hidden while a deploy or console holds them);
- reports.py: the `report_*` helpers views, services and jobs call for each kind of failure.

With neither SENTRY_DSN nor SENTRY_SPOTLIGHT set, nothing is initialised and every helper is
a cheap no-op.
"""

from app.observability.scopes import (
    breadcrumb,
    capture,
    current_environment_and_release,
    flush,
    forked_scope,
    isolated,
    proxmox_call,
    tag_request,
)
from app.observability.scrubbing import hide_too, hiding
from app.observability.setup import delivery_failed, detect_environment, init_sentry

__all__ = [
    "breadcrumb",
    "capture",
    "current_environment_and_release",
    "delivery_failed",
    "detect_environment",
    "flush",
    "forked_scope",
    "hide_too",
    "hiding",
    "init_sentry",
    "isolated",
    "proxmox_call",
    "tag_request",
]

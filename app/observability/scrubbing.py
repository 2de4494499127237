"""Keeping secrets out of Sentry: keys to filter, configured secrets, and values hidden while
work that holds them runs (a deploy's secret inputs, a console's ticket)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote, quote_plus

from sentry_sdk.scrubber import DEFAULT_DENYLIST

# Keys whose values never leave the machine, on top of the SDK's own list.
DENYLIST = [
    *DEFAULT_DENYLIST,
    "pveauthcookie",
    "csrfpreventiontoken",
    "x-csrftoken",
    "remember_token",
    "secret_key",
    "token_value",
    "proxmox_token_value",
    "proxmox_password",
    "new_password",
    "current_password",
    "confirm",
    "target_url",  # an Apprise URL: it holds tokens (app.services.notifications)
]
DENYLIST_LOWER = frozenset(k.lower() for k in DENYLIST)
FILTERED = "[Filtered]"
# The deploy form's app inputs (`input_<name>`): any of them may be a secret (a password).
FILTERED_PREFIXES = ("input_",)
# Values to blank out wherever they appear, for the work in progress (a deploy's secrets).
_hidden_values: ContextVar[tuple[str, ...]] = ContextVar("hidden_values", default=())
# `password=...` inside strings (URLs, reprs of requests in stack frames).
KEY_VALUE = re.compile(r"(?i)\b(" + "|".join(re.escape(k) for k in DENYLIST) + r")=([^&\s'\"]+)")


@contextmanager
def hiding(values: Iterable[str]) -> Iterator[None]:
    """While inside, these values (a deploy's secret inputs, a console's ticket) are blanked
    out of everything sent to Sentry: messages, breadcrumbs, local variables in stack traces;
    also as they appear in a URL (a ticket in a query string is percent-encoded)."""
    kept = [v for v in values if v and len(v) >= 4]
    encoded = {form for v in kept for form in (quote(v, safe=""), quote_plus(v))} - set(kept)
    token = _hidden_values.set((*kept, *encoded))
    try:
        yield
    finally:
        _hidden_values.reset(token)


def hide_too(values: Iterable[str]) -> None:
    """Inside `hiding`, blank these values as well from now on (secrets made on the way,
    such as a deploy's generated ones)."""
    kept = [v for v in values if v and len(v) >= 4]
    _hidden_values.set((*_hidden_values.get(), *kept))


def unless_socket_end(hint: dict, send):
    """None (no event) for the StopIteration that ends every websocket under gunicorn:
    flask-sock raises it to tell gunicorn the connection is done, and the SDK's WSGI
    middleware sees it pass. Python turns a StopIteration leaking from a generator into a
    RuntimeError, so one reaching the WSGI layer is always this signal, never a bug."""
    exc_info = hint.get("exc_info")
    if exc_info and exc_info[0] is StopIteration:
        return None
    return send()


def hidden_now(crumb: dict) -> dict:
    """before_breadcrumb: blank the values hidden for the work in progress, while they are
    known. The rest (configured secrets, denylisted keys) waits for before_send, which walks
    every breadcrumb of an event that is sent: most breadcrumbs never are, and scrubbing each
    as it is made cost every request."""
    hidden = _hidden_values.get()
    return scrub(crumb, list(hidden)) if hidden else crumb


def with_hidden(secrets: list[str]) -> list[str]:
    return [*secrets, *_hidden_values.get()]


def secret_values(config) -> list[str]:
    values = [config.get(k) for k in ("PROXMOX_TOKEN_VALUE", "PROXMOX_PASSWORD", "SECRET_KEY",
                                      "OIDC_CLIENT_SECRET")]  # fmt: skip
    return [v for v in values if isinstance(v, str) and len(v) >= 6]


def scrub(payload: Any, secrets: list[str]) -> Any:
    """Filter configured secrets and `key=value` pairs of denylisted keys in every string."""

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            if "=" in node:  # the cheap test first: most strings have no key=value pair
                node = KEY_VALUE.sub(lambda m: f"{m.group(1)}={FILTERED}", node)
            for secret in secrets:
                if secret in node:
                    node = node.replace(secret, FILTERED)
            return node
        if isinstance(node, dict):
            return {
                key: FILTERED if _filtered_key(str(key)) else walk(value)
                for key, value in node.items()
            }
        if isinstance(node, list | tuple):
            return [walk(value) for value in node]
        return node

    return walk(payload)


def _filtered_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in DENYLIST_LOWER or lowered.startswith(FILTERED_PREFIXES)

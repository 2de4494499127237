"""Everything Sentry: initialisation, environment, sampling, contexts, scrubbing, user context.

No other module imports sentry_sdk. With neither SENTRY_DSN nor SENTRY_SPOTLIGHT set, nothing
is initialised and every helper here is a cheap no-op.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import sentry_sdk
from flask import Flask, current_app, request
from flask_login import current_user
from sentry_sdk.integrations.flask import FlaskIntegration
from sentry_sdk.integrations.huey import HueyIntegration
from sentry_sdk.integrations.logging import LoggingIntegration, ignore_logger
from sentry_sdk.integrations.sqlalchemy import SqlalchemyIntegration
from sentry_sdk.integrations.stdlib import StdlibIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

log = logging.getLogger(__name__)

DEV_HOSTS = ("localhost", "local", "test")
DEV_SUFFIXES = (".local", ".localhost", ".test")
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
]
DENYLIST_LOWER = frozenset(k.lower() for k in DENYLIST)
FILTERED = "[Filtered]"
# The deploy form's app inputs (`input_<name>`): any of them may be a secret (a password).
FILTERED_PREFIXES = ("input_",)
# Values to blank out wherever they appear, for the work in progress (a deploy's secrets).
_hidden_values: ContextVar[tuple[str, ...]] = ContextVar("hidden_values", default=())
# `password=...` inside strings (URLs, reprs of requests in stack frames).
KEY_VALUE = re.compile(r"(?i)\b(" + "|".join(re.escape(k) for k in DENYLIST) + r")=([^&\s'\"]+)")
_delivery_warning: _DeliveryFailureWarning | None = None


def detect_environment(hostname: str) -> str:
    """`development` for local host names and 127.x addresses, `production` otherwise."""
    host = (hostname or "").strip().lower().rstrip(".")
    if host in DEV_HOSTS or host.endswith(DEV_SUFFIXES):
        return "development"
    try:
        return "development" if ipaddress.ip_address(host).is_loopback else "production"
    except ValueError:
        return "production"


def environment_for(config) -> str:
    """SENTRY_ENVIRONMENT wins; otherwise detected from this machine's host name."""
    return config.get("SENTRY_ENVIRONMENT") or detect_environment(socket.gethostname())


def init_sentry(app: Flask) -> bool:
    """Initialise the SDK from SENTRY_* settings; False when Sentry is not configured."""
    config = app.config
    dsn, spotlight = config.get("SENTRY_DSN"), config.get("SENTRY_SPOTLIGHT")
    if not dsn and not spotlight:
        return False
    environment = environment_for(config)
    development = environment == "development"
    traces_rate = config.get("SENTRY_TRACES_SAMPLE_RATE")
    if traces_rate is None:
        traces_rate = 1.0 if development else 0.1
    debug = config.get("SENTRY_DEBUG")
    secrets = _secret_values(config)
    try:
        sentry_sdk.init(
            dsn=dsn or None,
            spotlight=spotlight or None,
            environment=environment,
            release=config.get("SENTRY_RELEASE") or config["APP_VERSION"],
            sample_rate=1.0,
            traces_sampler=_traces_sampler(traces_rate),
            debug=development if debug is None else debug,
            attach_stacktrace=True,
            max_breadcrumbs=100,  # a deploy's steps, with their Proxmox calls
            # The scrubber still removes secrets by key; it keeps user.ip_address, which
            # attach_user only sends when SENTRY_SEND_USER_PII is on.
            event_scrubber=EventScrubber(denylist=DENYLIST, recursive=True, send_default_pii=True),
            before_send=lambda event, hint: _unless_socket_end(
                hint, lambda: _scrub_values(event, _with_hidden(secrets))
            ),
            before_send_transaction=lambda event, hint: _scrub_values(event, _with_hidden(secrets)),
            before_breadcrumb=lambda crumb, hint: _scrub_values(crumb, _with_hidden(secrets)),
            # What the portal uses, and nothing the SDK finds installed besides (aiohttp is,
            # for the test fake; its server is not the portal's).
            auto_enabling_integrations=False,
            integrations=[
                FlaskIntegration(),
                SqlalchemyIntegration(),
                HueyIntegration(),
                LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
            ],
            # The Proxmox calls have spans and breadcrumbs of their own (proxmox_call); the
            # SDK's http.client ones would double them, and PVE has no use for trace headers.
            disabled_integrations=[StdlibIntegration()],
            trace_propagation_targets=[],
            transport=config.get("SENTRY_TRANSPORT"),
            shutdown_timeout=2,
        )
    except Exception as exc:  # noqa: BLE001 - a bad DSN must never stop the portal
        log.warning("Sentry is disabled: %s", exc)
        return False
    # The error handlers capture explicitly; their log lines must not become second events.
    ignore_logger("app.errors")
    # websockets logs a Proxmox console socket dropped mid-read as an "unexpected internal
    # error"; the relay ends such a console itself (a peer closing is not a portal failure).
    ignore_logger("app.proxmox.console.socket")
    _warn_once_when_delivery_fails(dsn)
    _set_static_contexts(app, environment)
    app.before_request(attach_request_context)
    return True


class _DeliveryFailureWarning(logging.Filter):
    """Turns the SDK's first failed delivery into one warning on the portal's log.

    Sending happens in a background thread, so a down or slow Sentry never delays a page;
    without this the failure is silent (the SDK logs it only in debug mode).
    """

    def __init__(self, dsn: str | None):
        super().__init__()
        self.host = urlsplit(dsn or "").netloc.rpartition("@")[2] or "Spotlight"
        self.warned = False

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and not self.warned:
            self.warned = True
            reason = record.exc_info[1] if record.exc_info else record.getMessage()
            log.warning(
                "A Sentry event could not be sent to %s (%s); events are lost while it fails. "
                "The portal keeps serving; this warning is not repeated.",
                self.host,
                reason,
            )
        return True  # the SDK's own debug filter decides whether its record is shown


def _warn_once_when_delivery_fails(dsn: str | None) -> None:
    global _delivery_warning
    sdk_log = logging.getLogger("sentry_sdk.errors")
    if _delivery_warning is not None:
        sdk_log.removeFilter(_delivery_warning)
    _delivery_warning = _DeliveryFailureWarning(dsn)
    # First in line: the SDK's debug filter, added at init, drops records when debug is off.
    sdk_log.filters.insert(0, _delivery_warning)


def delivery_failed() -> bool:
    """True once an event could not be sent (after flush(): did the test event arrive?)."""
    return _delivery_warning is not None and _delivery_warning.warned


def _traces_sampler(rate: float):
    def sampler(sampling_context: dict) -> float:
        path = (sampling_context.get("wsgi_environ") or {}).get("PATH_INFO", "")
        untraced = path == "/healthz" or path.startswith("/static/")
        return 0.0 if untraced else rate

    return sampler


def _set_static_contexts(app: Flask, environment: str) -> None:
    """The app, proxmox and database contexts every event carries (never a secret)."""
    config = app.config
    scope = sentry_sdk.get_global_scope()
    scope.set_context(
        "app",
        {
            "name": "proxmox-portal",
            "version": config["APP_VERSION"],
            "debug": app.debug,
            "environment": environment,
        },
    )
    proxmox = app.extensions["proxmox"].settings
    scope.set_context(
        "proxmox",
        {
            "host": proxmox.host,
            "port": proxmox.port,
            "verify_ssl": bool(proxmox.verify_ssl),
            "auth_method": proxmox.auth_method or "none",
        },
    )
    scheme = urlsplit(config["SQLALCHEMY_DATABASE_URI"]).scheme
    scope.set_context("database", {"scheme": scheme})


def attach_request_context() -> None:
    """before_request: who is asking (user and role tags) and a breadcrumb for the request."""
    if request.path.startswith("/static/"):
        return
    if current_user.is_authenticated:
        _identify(sentry_sdk.get_isolation_scope(), current_user, request.remote_addr)
    else:
        sentry_sdk.set_tag("authenticated", "false")
    sentry_sdk.add_breadcrumb(
        category="request", message=f"{request.method} {request.path}", level="info"
    )


def _identify(scope: sentry_sdk.Scope, user: Any, ip_address: str | None = None) -> None:
    """Make a portal user the scope's user, with role tags; e-mail and address only with
    SENTRY_SEND_USER_PII."""
    fields: dict[str, Any] = {"id": str(user.id), "username": user.username, "role": user.role}
    if current_app.config.get("SENTRY_SEND_USER_PII", True):
        fields["email"] = user.email
        if ip_address:
            fields["ip_address"] = ip_address
    scope.set_user(fields)
    scope.set_tag("user_role", user.role)
    scope.set_tag("authenticated", "true")


def capture(
    exc: BaseException,
    error_type: str | None = None,
    context_name: str | None = None,
    context: dict | None = None,
    tags: dict | None = None,
    user: Any = None,
) -> str | None:
    """Send one event for exc with its tags and context; returns the event id (None when off).

    user (a portal User) is the event's user where no request says who it is: a job in the
    worker reports for the user who started the work.
    """
    if not sentry_sdk.is_initialized():
        return None
    with sentry_sdk.new_scope() as scope:
        if error_type:
            scope.set_tag("error_type", error_type)
        for key, value in (tags or {}).items():
            scope.set_tag(key, value)
        if user is not None:
            _identify(scope, user)
        if context_name:
            scope.set_context(
                context_name, {k: v for k, v in (context or {}).items() if v is not None}
            )
        return sentry_sdk.capture_exception(exc)


def forked_scope():
    """A Sentry scope of the calling thread's own, forked from the current one: spans started
    in it hang under the request's transaction without racing other threads' spans."""
    return sentry_sdk.new_scope()


@contextmanager
def proxmox_call(method: str, path: str) -> Iterator[dict]:
    """Span and breadcrumb around one Proxmox API call; the caller fills in `status`."""
    outcome: dict[str, Any] = {"status": None}
    started = time.monotonic()
    with sentry_sdk.start_span(op="http.client", name=f"proxmox {method} {path}") as span:
        try:
            yield outcome
        finally:
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            span.set_data("http.response.status_code", outcome["status"])
            sentry_sdk.add_breadcrumb(
                category="proxmox",
                type="http",
                message=f"{method} {path}",
                data={
                    "method": method,
                    "path": path,
                    "status_code": outcome["status"],
                    "duration_ms": duration_ms,
                },
                level="info" if (outcome["status"] or 500) < 400 else "warning",
            )


def current_environment_and_release() -> tuple[str | None, str | None]:
    """(environment, release) of the running SDK, or (None, None) when it is off."""
    client = sentry_sdk.get_client()
    if not client.is_active():
        return None, None
    return client.options.get("environment"), client.options.get("release")


def flush() -> None:
    """Send queued events now (CLI commands and shutdown)."""
    if sentry_sdk.is_initialized():
        sentry_sdk.flush(timeout=2)


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


def _unless_socket_end(hint: dict, send):
    """None (no event) for the StopIteration that ends every websocket under gunicorn:
    flask-sock raises it to tell gunicorn the connection is done, and the SDK's WSGI
    middleware sees it pass. Python turns a StopIteration leaking from a generator into a
    RuntimeError, so one reaching the WSGI layer is always this signal, never a bug."""
    exc_info = hint.get("exc_info")
    if exc_info and exc_info[0] is StopIteration:
        return None
    return send()


def _with_hidden(secrets: list[str]) -> list[str]:
    return [*secrets, *_hidden_values.get()]


def _secret_values(config) -> list[str]:
    values = [config.get(k) for k in ("PROXMOX_TOKEN_VALUE", "PROXMOX_PASSWORD", "SECRET_KEY")]
    return [v for v in values if isinstance(v, str) and len(v) >= 6]


def _scrub_values(payload: Any, secrets: list[str]) -> Any:
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

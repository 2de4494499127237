"""Starting the SDK: the environment, sampling, integrations, the contexts every event
carries, and one warning when events cannot be delivered."""

from __future__ import annotations

import ipaddress
import logging
import socket
from urllib.parse import urlsplit

import sentry_sdk
from flask import Flask
from sentry_sdk.integrations.flask import FlaskIntegration
from sentry_sdk.integrations.huey import HueyIntegration
from sentry_sdk.integrations.logging import LoggingIntegration, ignore_logger
from sentry_sdk.integrations.stdlib import StdlibIntegration
from sentry_sdk.integrations.threading import ThreadingIntegration
from sentry_sdk.scrubber import EventScrubber

from app.observability.sampling import Sampler
from app.observability.scopes import attach_request_context
from app.observability.scrubbing import (
    DENYLIST,
    hidden_now,
    scrub,
    secret_values,
    unless_socket_end,
    with_hidden,
)
from app.observability.tracing import trace_sampled_requests

log = logging.getLogger("app.observability")  # the package's one logger

DEV_HOSTS = ("localhost", "local", "test")
DEV_SUFFIXES = (".local", ".localhost", ".test")
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


def init_sentry(flask_app: Flask) -> bool:
    """Initialise the SDK from SENTRY_* settings; False when Sentry is not configured."""
    config = flask_app.config
    dsn, spotlight = config.get("SENTRY_DSN"), config.get("SENTRY_SPOTLIGHT")
    if not dsn and not spotlight:
        return False
    environment = environment_for(config)
    development = environment == "development"
    traces_rate = config.get("SENTRY_TRACES_SAMPLE_RATE")
    if traces_rate is None:
        traces_rate = 1.0 if development else 0.1
    debug = config.get("SENTRY_DEBUG")
    secrets = secret_values(config)
    sampler = Sampler(traces_rate, config.get("SENTRY_TRACES_PER_MINUTE", 30))
    try:
        sentry_sdk.init(
            dsn=dsn or None,
            spotlight=spotlight or None,
            environment=environment,
            release=config.get("SENTRY_RELEASE") or config["APP_VERSION"],
            sample_rate=1.0,
            traces_sampler=sampler.traces_sampler,
            debug=development if debug is None else debug,
            attach_stacktrace=True,
            max_breadcrumbs=100,  # a deploy's steps, with their Proxmox calls
            # The scrubber still removes secrets by key; it keeps user.ip_address, which
            # attach_user only sends when SENTRY_SEND_USER_PII is on.
            event_scrubber=EventScrubber(denylist=DENYLIST, recursive=True, send_default_pii=True),
            before_send=lambda event, hint: unless_socket_end(
                hint, lambda: scrub(event, with_hidden(secrets))
            ),
            before_send_transaction=lambda event, hint: scrub(event, with_hidden(secrets)),
            before_breadcrumb=lambda crumb, hint: hidden_now(crumb),
            # What the portal uses, and nothing the SDK finds installed besides (aiohttp is,
            # for the test fake; its server is not the portal's). Not SQLAlchemy's either: its
            # query breadcrumbs took 40 to 80 of a failed deploy's 100 places, pushing out the
            # deploy's steps and Proxmox calls, and its span and breadcrumb per query were
            # 1-2 % of a dashboard request (docs/PERFORMANCE.md). A database error still
            # arrives as its exception, with the statement.
            auto_enabling_integrations=False,
            integrations=[
                # Requests' transactions are started by tracing.py, only for those traced.
                FlaskIntegration(http_methods_to_capture=()),
                HueyIntegration(),
                LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
                # gunicorn's gthread workers hand every request to a pool thread, and by default
                # the SDK forks the submitting thread's two scopes for each: about 7 % of a
                # dashboard request at 100 guests. Each request gets scopes of its own from the
                # Flask integration anyway, and app/proxmox/parallel.py carries the caller's
                # into its pool itself. A thread's uncaught error is still reported.
                ThreadingIntegration(propagate_scope=False),
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
    # gunicorn writes a request's access line once the page is sent: as a breadcrumb it would
    # only be wiped when the worker's thread takes its next request (work for nothing, on
    # every request).
    ignore_logger("gunicorn.access")
    _warn_once_when_delivery_fails(dsn)
    _set_static_contexts(flask_app, environment)
    flask_app.before_request(attach_request_context)
    trace_sampled_requests(flask_app, sampler)
    # No page loads Sentry's browser SDK, so nothing would continue a trace from the
    # sentry-trace meta tags the Flask integration builds for every template it renders
    # (about 40 µs each); it leaves a template alone whose context already has one.
    flask_app.context_processor(lambda: {"sentry_trace": ""})
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


def _set_static_contexts(flask_app: Flask, environment: str) -> None:
    """The app, proxmox and database contexts every event carries (never a secret)."""
    config = flask_app.config
    scope = sentry_sdk.get_global_scope()
    scope.set_context(
        "app",
        {
            "name": "proxmox-portal",
            "version": config["APP_VERSION"],
            "debug": flask_app.debug,
            "environment": environment,
        },
    )
    proxmox = flask_app.extensions["proxmox"].settings
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

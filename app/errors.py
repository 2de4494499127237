"""The portal's own error types, and the handlers that turn errors into pages.

Registering a handler for an exception class stops sentry-sdk's automatic capture, so each
handler reports its error itself (through app.observability): exactly one event per error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import Flask, has_request_context, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from app import observability
from app.extensions import db

log = logging.getLogger(__name__)


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


def wants_json() -> bool:
    """True when the client asked for JSON rather than a page."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(
    status: int, title: str, message: str, hint: str | None = None, reference: str | None = None
):
    """An error page (or JSON body) in the site's look, with the Sentry event id as reference."""
    if wants_json():
        body = {"error": title, "message": message, "status": status, "reference": reference}
        return jsonify(body), status
    page = render_template(
        "errors/error.html",
        status=status,
        title=title,
        message=message,
        hint=hint,
        error_reference=reference,
    )
    return page, status


def _request_fields() -> dict:
    return {"request_path": request.path, "request_method": request.method}


def report_proxmox_error(error: ProxmoxError) -> str | None:
    """Send one Sentry event for a Proxmox failure; returns its id (the error reference)."""
    context = {
        "error_message": error.message,
        **(_request_fields() if has_request_context() else {}),
        "api_method": error.api_method,
        "api_path": error.api_path,
        "node": error.node,
        "vmid": error.vmid,
        "upid": error.upid,
        "status_code": error.status_code,
        "kind": error.kind,
        "pve_message": error.pve_message,
    }
    return observability.capture(error, "proxmox", "proxmox_error", context)


def handle_proxmox_error(error: ProxmoxError):
    """Proxmox down, refusing credentials, timing out or refusing a request."""
    log.warning("Proxmox error: %s", error.message)
    reference = report_proxmox_error(error)
    title = {
        "unreachable": "Proxmox VE is unreachable",
        "timeout": "Proxmox VE did not answer in time",
        "auth": "Proxmox VE refused the portal's credentials",
        "tls": "Proxmox VE's certificate could not be verified",
        "config": "Proxmox VE is not configured",
    }.get(error.kind, "Proxmox VE refused the request")
    return error_response(error.http_status, title, error.message, error.hint, reference)


def handle_app_service_error(error: AppServiceError):
    """A refusal by the service layer that no view handled: show its own message."""
    context = {"error_message": error.message, **_request_fields(), **error.details}
    reference = observability.capture(error, "app_service", "app_service_error", context)
    return error_response(
        error.http_status, "The portal could not do that", error.message, reference=reference
    )


def handle_http_exception(error: HTTPException):
    """403, 404, 405, 429 ... in the site's look; only 5xx are reported."""
    status = error.code or 500
    reference = None
    if status >= 500:
        reference = observability.capture(error, tags={"status_code": str(status)})
    return error_response(status, error.name, error.description or "", reference=reference)


def handle_unexpected_error(error: Exception):
    """Anything else: roll back half-done database work, report it, show a plain 500 page."""
    db.session.rollback()
    log.exception("Unhandled error on %s %s", request.method, request.path, exc_info=error)
    context = {
        "exception_type": type(error).__name__,
        "exception_module": type(error).__module__,
        "error_message": str(error),
        **_request_fields(),
        "attributes": {k: repr(v)[:200] for k, v in vars(error).items()} or None,
        "query_params": request.args.to_dict(flat=False) or None,
    }
    reference = observability.capture(error, "unhandled", "unhandled_error", context)
    return error_response(
        500,
        "Something went wrong",
        "The portal hit an unexpected error. Nothing was saved. Try again, and tell your "
        "administrator if it keeps happening.",
        reference=reference,
    )


def _guarded(handler):
    """If an error handler itself fails, answer with a plain 500 instead of another error."""

    def wrapped(error):
        try:
            return handler(error)
        except Exception:  # noqa: BLE001 - last line of defence
            log.exception("The error handler %s failed", handler.__name__)
            return "500 Internal Server Error", 500, {"Content-Type": "text/plain; charset=utf-8"}

    return wrapped


def register_errorhandlers(app: Flask) -> None:
    """Attach the handlers above to the app (each captures its own Sentry event)."""
    app.register_error_handler(ProxmoxError, _guarded(handle_proxmox_error))
    app.register_error_handler(AppServiceError, _guarded(handle_app_service_error))
    app.register_error_handler(HTTPException, _guarded(handle_http_exception))
    app.register_error_handler(Exception, _guarded(handle_unexpected_error))

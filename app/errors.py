"""The portal's own error types, and the handlers that turn errors into pages.

Registering a handler for an exception class stops sentry-sdk's automatic capture, so each
handler reports its error itself (through app.observability): exactly one event per error.
"""

from __future__ import annotations

import logging

from flask import Flask, has_request_context, jsonify, render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from app import observability
from app.exceptions import AppServiceError, NotFoundError, ProxmoxError
from app.extensions import db

log = logging.getLogger(__name__)


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


def report_proxmox_error(error: ProxmoxError, started_by=None) -> str | None:
    """Send one Sentry event for a Proxmox failure; returns its id (the error reference).

    Outside a request (a job in the worker), started_by is reported as the event's user.
    """
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
    user = None if has_request_context() else started_by
    return observability.capture(error, "proxmox", "proxmox_error", context, user=user)


def report_console_error(error: Exception, guest, kind: str, phase: str) -> str | None:
    """One Sentry event for a console that could not open or broke: error_type `proxmox`,
    with a `console` context (which guest, which kind, in which phase). Returns its id."""
    context = {
        "error_message": getattr(error, "message", str(error)),
        **(_request_fields() if has_request_context() else {}),
        "node": guest.node,
        "vmid": guest.vmid,
        "guest_type": guest.type,
        "kind": kind,
        "phase": phase,
        # A ProxmoxError's own fields (the other failures are the portal's handshakes).
        "status_code": getattr(error, "status_code", None),
        "api_path": getattr(error, "api_path", None),
        "pve_message": getattr(error, "pve_message", None),
    }
    return observability.capture(error, "proxmox", "console", context)


PROXMOX_TITLES = {
    "unreachable": "Proxmox VE is unreachable",
    "timeout": "Proxmox VE did not answer in time",
    "auth": "Proxmox VE refused the portal's credentials",
    "tls": "Proxmox VE's certificate could not be verified",
    "config": "Proxmox VE is not configured",
}


def handle_proxmox_error(error: ProxmoxError):
    """Proxmox down, refusing credentials, timing out or refusing a request.

    Admins get the whole story (address, API path, what to change); other users get PVE's
    reason or a plain "try again": Proxmox addresses and UPIDs are for admins only.
    """
    log.warning("Proxmox error: %s", error.message)
    reference = report_proxmox_error(error)
    title = PROXMOX_TITLES.get(error.kind, "Proxmox VE refused the request")
    if current_user.is_authenticated and current_user.is_admin:
        return error_response(error.http_status, title, error.message, error.hint, reference)
    if error.kind in ("api", "task") and error.pve_message:
        message = f"Proxmox VE refused the request: {error.pve_message}"
    else:
        message = "The portal cannot reach Proxmox VE right now. Try again in a minute."
    hint = "If it keeps happening, tell your administrator the error reference."
    return error_response(error.http_status, title, message, hint, reference)


def handle_not_found(error: NotFoundError):
    """A service found nothing the user may see: a 404 page, not a Sentry event."""
    return error_response(404, "Not Found", error.message)


def report_app_service_error(error: AppServiceError) -> str | None:
    """Send one Sentry event for a service refusal (e.g. a quota); returns the error reference."""
    context = {"error_message": error.message, **_request_fields(), **error.details}
    return observability.capture(error, "app_service", "app_service_error", context)


def reported_refusal(error: AppServiceError) -> str:
    """Report a refusal shown on a form (e.g. a quota) and return its message with the error
    reference, for the form to show."""
    reference = report_app_service_error(error)
    return error.message + (f" (error reference {reference})" if reference else "")


def handle_app_service_error(error: AppServiceError):
    """A refusal by the service layer that no view handled: show its own message."""
    reference = report_app_service_error(error)
    return error_response(
        error.http_status, "The portal could not do that", error.message, reference=reference
    )


def handle_http_exception(error: HTTPException):
    """403, 404, 405, 429 ... in the site's look; only 5xx are reported.

    The exception's own headers (Retry-After on 429, Allow on 405) are kept.
    """
    status = error.code or 500
    reference = None
    if status >= 500:
        reference = observability.capture(error, tags={"status_code": str(status)})
    body, status = error_response(status, error.name, error.description or "", reference=reference)
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return body, status, headers


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
    app.register_error_handler(NotFoundError, _guarded(handle_not_found))
    app.register_error_handler(HTTPException, _guarded(handle_http_exception))
    app.register_error_handler(Exception, _guarded(handle_unexpected_error))

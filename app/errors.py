"""The HTTP error handlers and the error page (the error types are in app.exceptions).

Registering a handler for an exception class stops sentry-sdk's automatic capture, so each
handler reports its error itself (app.observability.reports): exactly one event per error.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from app.exceptions import AppServiceError, NotFoundError, ProxmoxError
from app.extensions import db
from app.observability.reports import (
    report_app_service_error,
    report_proxmox_error,
    report_server_error,
    report_unexpected_error,
)

log = logging.getLogger(__name__)


def wants_json() -> bool:
    """True when the client asked for JSON rather than a page."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def is_api_request() -> bool:
    """True for the API's paths: their errors are problem details, never a page."""
    return request.path == "/api" or request.path.startswith("/api/")


def problem(status: int, title: str, detail: str, reference: str | None = None, **extra):
    """An RFC 9457 problem details response (`application/problem+json`); `reference` is
    the Sentry event id of a reported failure."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "instance": request.path, **extra}  # fmt: skip
    if reference:
        body["reference"] = reference
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def error_response(
    status: int, title: str, message: str, hint: str | None = None, reference: str | None = None
):
    """An error page (or JSON body) in the site's look, with the Sentry event id as reference;
    on the API, problem details."""
    if is_api_request():
        return problem(status, title, message, reference), status
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
    reference = report_server_error(error, status) if status >= 500 else None
    body, status = error_response(status, error.name, error.description or "", reference=reference)
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return body, status, headers


def handle_unexpected_error(error: Exception):
    """Anything else: roll back half-done database work, report it, show a plain 500 page."""
    db.session.rollback()
    log.exception("Unhandled error on %s %s", request.method, request.path, exc_info=error)
    reference = report_unexpected_error(error)
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


def register_errorhandlers(flask_app: Flask) -> None:
    """Attach the handlers above to the Flask app (each captures its own Sentry event)."""
    flask_app.register_error_handler(ProxmoxError, _guarded(handle_proxmox_error))
    flask_app.register_error_handler(AppServiceError, _guarded(handle_app_service_error))
    flask_app.register_error_handler(NotFoundError, _guarded(handle_not_found))
    flask_app.register_error_handler(HTTPException, _guarded(handle_http_exception))
    flask_app.register_error_handler(Exception, _guarded(handle_unexpected_error))

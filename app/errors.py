"""The portal's own error types, and the handlers that turn errors into pages.

Sentry reporting hooks into `register_errorhandlers` (see app/observability.py, next issue).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from app.extensions import db

log = logging.getLogger(__name__)


@dataclass(eq=False)
class ProxmoxError(Exception):
    """A failed Proxmox API call, with what a person needs to act on it.

    `status_code` is what Proxmox answered (None when it never answered);
    `http_status` is what the portal answers its own user (502, 503 or 504).
    """

    message: str
    kind: str = "api"  # api | auth | unreachable | timeout | tls | config
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


def error_response(status: int, title: str, message: str, hint: str | None = None):
    """An error page (or JSON body) that matches the site's look."""
    if wants_json():
        body = {"error": title, "message": message, "status": status}
        return jsonify(body), status
    page = render_template(
        "errors/error.html", status=status, title=title, message=message, hint=hint
    )
    return page, status


def handle_proxmox_error(error: ProxmoxError):
    """Proxmox down, refusing credentials, timing out or refusing a request."""
    log.warning("Proxmox error: %s", error.message)
    title = {
        "unreachable": "Proxmox VE is unreachable",
        "timeout": "Proxmox VE did not answer in time",
        "auth": "Proxmox VE refused the portal's credentials",
        "tls": "Proxmox VE's certificate could not be verified",
        "config": "Proxmox VE is not configured",
    }.get(error.kind, "Proxmox VE refused the request")
    return error_response(error.http_status, title, error.message, error.hint)


def handle_app_service_error(error: AppServiceError):
    """A refusal by the service layer: show its own message."""
    return error_response(error.http_status, "The portal could not do that", error.message)


def handle_http_exception(error: HTTPException):
    """403, 404, 405, 429 ... rendered in the site's look."""
    return error_response(error.code or 500, error.name, error.description or "")


def handle_unexpected_error(error: Exception):
    """Anything else: roll back half-done database work and show a plain 500 page."""
    db.session.rollback()
    log.exception("Unhandled error on %s %s", request.method, request.path, exc_info=error)
    return error_response(
        500,
        "Something went wrong",
        "The portal hit an unexpected error. Nothing was saved. Try again, and tell your "
        "administrator if it keeps happening.",
    )


def register_errorhandlers(app: Flask) -> None:
    """Attach the handlers above to the app."""
    app.register_error_handler(ProxmoxError, handle_proxmox_error)
    app.register_error_handler(AppServiceError, handle_app_service_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected_error)

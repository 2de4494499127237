"""One Sentry event per failure, for every layer: the views and error handlers, the services,
and the jobs in the worker. Each helper sets the event's `error_type` tag and its context, and
returns the event id (the error reference people are shown), or None when Sentry is off."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from app.exceptions import AppServiceError, ProxmoxError
from app.observability.scopes import capture


def _request_fields() -> dict:
    if not has_request_context():
        return {}
    return {"request_path": request.path, "request_method": request.method}


def error_type_of(error: BaseException) -> str:
    """The `error_type` tag: `proxmox`, `app_service` or `unhandled`."""
    if isinstance(error, ProxmoxError):
        return "proxmox"
    if isinstance(error, AppServiceError):
        return "app_service"
    return "unhandled"


def report_proxmox_error(error: ProxmoxError, started_by: Any = None) -> str | None:
    """A Proxmox failure. Outside a request (a job in the worker), started_by is reported as
    the event's user."""
    context = {
        "error_message": error.message,
        **_request_fields(),
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
    return capture(error, "proxmox", "proxmox_error", context, user=user)


def report_console_error(error: Exception, guest: Any, kind: str, phase: str) -> str | None:
    """A console that could not open or broke: error_type `proxmox`, with a `console` context
    (which guest, which kind, in which phase)."""
    context = {
        "error_message": getattr(error, "message", str(error)),
        **_request_fields(),
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
    return capture(error, "proxmox", "console", context)


def report_app_service_error(error: AppServiceError) -> str | None:
    """A service refusal (e.g. a quota)."""
    context = {"error_message": error.message, **_request_fields(), **error.details}
    return capture(error, "app_service", "app_service_error", context)


def reported_refusal(error: AppServiceError) -> str:
    """Report a refusal shown on a form (e.g. a quota) and return its message with the error
    reference, for the form to show."""
    reference = report_app_service_error(error)
    return error.message + (f" (error reference {reference})" if reference else "")


def report_server_error(error: Exception, status: int) -> str | None:
    """An HTTP 5xx raised on purpose (abort(503) ...), tagged with its status code."""
    return capture(error, tags={"status_code": str(status)})


def report_unexpected_error(error: Exception) -> str | None:
    """A bug: anything no other handler took, with its type and attributes and the query."""
    context = {
        "exception_type": type(error).__name__,
        "exception_module": type(error).__module__,
        "error_message": str(error),
        **_request_fields(),
        "attributes": {k: repr(v)[:200] for k, v in vars(error).items()} or None,
        "query_params": request.args.to_dict(flat=False) or None,
    }
    return capture(error, "unhandled", "unhandled_error", context)


def report_deploy_failure(
    error: BaseException, context: dict, tags: dict, started_by: Any
) -> str | None:
    """The one event of a failed deploy, clone or app delete, for the user who started it,
    with an `app_deploy` context (app, catalog id, step, node, VMID, UPID)."""
    return capture(error, error_type_of(error), "app_deploy", context, tags, user=started_by)

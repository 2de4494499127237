"""Who and what an event is about: the request's user, one event per error with its tags and
context, isolated scopes for jobs, breadcrumbs, and spans around Proxmox calls."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import sentry_sdk
from flask import current_app, request
from flask_login import current_user


def attach_request_context() -> None:
    """before_request: who is asking (user and role tags) and a breadcrumb for the request."""
    if request.path.startswith("/static/"):
        return
    if current_user.is_authenticated:
        identify(sentry_sdk.get_isolation_scope(), current_user, request.remote_addr)
    else:
        sentry_sdk.set_tag("authenticated", "false")
    sentry_sdk.add_breadcrumb(
        category="request", message=f"{request.method} {request.path}", level="info"
    )


def identify(scope: sentry_sdk.Scope, user: Any, ip_address: str | None = None) -> None:
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
            identify(scope, user)
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
    """Breadcrumb around one Proxmox API call, and a span in the request's trace when it is
    traced; the caller fills in `status`."""
    outcome: dict[str, Any] = {"status": None}
    started = time.monotonic()
    # Outside a traced request a span is sent nowhere, and starting one forks a scope.
    in_trace = sentry_sdk.get_current_span() is not None
    name = f"proxmox {method} {path}"
    with sentry_sdk.start_span(op="http.client", name=name) if in_trace else nullcontext() as span:
        try:
            yield outcome
        finally:
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            if span is not None:
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


def isolated():
    """A scope of its own for one piece of work outside a request (a job in the worker): its
    breadcrumbs and user do not leak into the next job's events."""
    return sentry_sdk.isolation_scope()


def tag_request(name: str, value: str) -> None:
    """A tag on every event of this request (e.g. request_via=api-token on the API)."""
    sentry_sdk.get_isolation_scope().set_tag(name, value)


def breadcrumb(category: str, message: str, data: dict | None = None, level: str = "info") -> None:
    """A step of the work in progress, shown with the event if it later fails."""
    sentry_sdk.add_breadcrumb(category=category, message=message, data=data, level=level)

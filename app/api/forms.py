"""The pages' forms, filled from JSON: the API checks what the pages check, with the same
rules and messages, and answers a refusal the way the page would show it."""

from __future__ import annotations

from typing import NoReturn
from uuid import uuid4

from flask import abort
from werkzeug.datastructures import MultiDict

from app.errors import problem
from app.exceptions import AppServiceError
from app.observability.reports import report_app_service_error
from app.services import quotas
from app.services.apps import admission

NO_CSRF = {"csrf": False}  # a token authenticates the API, never a cookie


def formdata(values: dict) -> MultiDict:
    """JSON values as a form's submitted data (None left out, as an empty field)."""
    return MultiDict({k: v for k, v in values.items() if v is not None})


def request_key(given: str | None) -> str:
    """The request's key: the caller's (the same key starts the work once), or a new one."""
    return given or uuid4().hex


def checked(form):
    """The form when its values are valid; a 422 problem naming each field's errors if not."""
    if not form.validate():
        errors = {name or "request": list(messages) for name, messages in form.errors.items()}
        invalid(errors)
    return form


def invalid(errors: dict[str, list[str]]) -> NoReturn:
    abort(problem(422, "Unprocessable Content", "Some values are not valid.", errors=errors))


def refused(refusal: AppServiceError) -> NoReturn:
    """A service's refusal, as the page shows it: a taken name is the caller's to fix, too many
    deploys is a 429, and a quota is reported (its reference in the answer)."""
    if isinstance(refusal, admission.NameTaken):
        abort(problem(409, "Conflict", refusal.message, errors={"name": [refusal.message]}))
    if isinstance(refusal, admission.TooManyDeploys):
        abort(problem(429, "Too Many Requests", refusal.message))
    if isinstance(refusal, quotas.QuotaExceeded):
        reference = report_app_service_error(refusal)
        abort(problem(403, "Quota exceeded", refusal.message, reference))
    abort(problem(refusal.http_status, "The portal could not do that", refusal.message))

"""The API's blueprint and its spectree (which checks requests and writes the OpenAPI
document), and what every API request goes through first: its token, scope and rate limit."""

from __future__ import annotations

from flask import Blueprint, g, request
from flask_login import current_user
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData

from app import observability
from app.errors import problem
from app.services.access import tokens

READING = ("GET", "HEAD", "OPTIONS")
PUBLIC = ("api.docs", "api.openapi")  # the reference page and the document

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def as_problem(_request, response, error, _instance, _adapter) -> None:
    """spectree's answer to a request its model refuses, made problem details (422) that name
    each field's errors."""
    if error is None:
        return
    errors: dict[str, list[str]] = {}
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "request"
        errors.setdefault(field, []).append(item["msg"])
    body = problem(422, "Unprocessable Content", "Some values are not valid.", errors=errors)
    response.set_data(body.get_data())
    response.mimetype = body.mimetype


spec = SpecTree(
    "flask",
    mode="strict",
    path="openapi",  # not a prefix of any route: spectree leaves routes under it out
    title="Proxmox portal API",
    version="1",
    description="The portal's REST API: see docs/API.md for tokens and a walk-through.",
    page_templates={},  # the reference page is the portal's own (no outside scripts)
    security_schemes=[
        SecurityScheme(
            name="token", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer")
        ),
    ],
    security={"token": []},
    validation_error_status=422,
    before=as_problem,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
)


@bp.before_request
def authenticate():
    """The token's user, its scope and its rate limit, before any API view."""
    if request.endpoint in PUBLIC:
        return None
    if not current_user.is_authenticated:
        response = problem(401, "Unauthorized", g.get("token_refused") or "No token was sent.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="portal"'
        return response
    observability.tag_request("request_via", "api-token")
    if request.method not in READING and g.api_token.scope != "write":
        return problem(403, "Forbidden", "This token may only read: its scope is read.")
    tokens.count_use(g.api_token)
    return None

"""The REST API, `/api/v1`: JSON for scripts, served by the same services as the pages.

Every request carries a personal access token (`Authorization: Bearer`; a session cookie is
ignored, so the API has no CSRF surface). A `read` token may only read. Each token's requests
count against API_RATE_LIMIT. Errors are problem details (RFC 9457, app.errors.problem).

spectree checks each request against its pydantic model (app/api/schemas.py) and writes the
OpenAPI document, `/api/v1/openapi.json`, from the same models; `/api/v1/docs` shows it.
spectree was chosen over APIFlask and flask-openapi3 (both replace the Flask app class or its
blueprints) and flask-smorest (marshmallow): it decorates plain Flask views, and the portal
uses pydantic already.
"""

from __future__ import annotations

from flask import Flask

from app.api import account, apps, guests, reference, tasks  # noqa: F401 - views join bp
from app.api.base import bp
from app.extensions import csrf


def register(flask_app: Flask) -> None:
    """The API's views, exempt from CSRF (no cookie counts there). spectree's own routes for
    the document are not registered: reference.py serves it at /api/v1/openapi.json."""
    csrf.exempt(bp)
    flask_app.register_blueprint(bp)

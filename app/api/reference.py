"""`/api/v1/openapi.json`, the API's OpenAPI document, and `/api/v1/docs`, its reference,
rendered by the portal from the document (no outside script or style: the page keeps the
portal's Content-Security-Policy). Both are public: they describe the API, not its data."""

from __future__ import annotations

from flask import jsonify, render_template

from app.api.base import bp, spec

METHODS = ("get", "post", "put", "patch", "delete")


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of the API, generated from its views and models."""
    return jsonify(spec.spec)


@bp.get("/docs")
def docs():
    """Every operation, grouped by tag: its method, path, summary, parameters and answers."""
    document = spec.spec
    groups: dict[str, list[dict]] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                tag = (operation.get("tags") or ["other"])[0]
                groups.setdefault(tag, []).append({"method": method.upper(), "path": path,
                                                   **operation})  # fmt: skip
    return render_template("api/docs.html", document=document, groups=groups)

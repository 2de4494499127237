"""The OpenAPI document is generated from the API's views and models and validates; the
reference page renders it with the portal's own look and CSP, no outside script."""

from __future__ import annotations

from openapi_spec_validator import validate

from tests.security.test_sweep import PROTECTION


def test_the_openapi_document_validates_and_names_every_route(app):
    client = app.test_client()
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200  # public: it describes the API, not its data
    document = answer.get_json()
    validate(document)
    assert document["openapi"].startswith("3.")
    operations = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    routes = {
        (method, "/api/v1" + rule.rule.removeprefix("/api/v1").replace("<int:", "{")
         .replace("<", "{").replace(">", "}"))
        for rule in app.url_map.iter_rules()
        if PROTECTION.get(rule.endpoint) == "token"
        for method in rule.methods & {"GET", "POST", "DELETE"}
    }  # fmt: skip
    assert operations == routes
    assert document["components"]["securitySchemes"]["token"] == {
        "type": "http", "scheme": "bearer"
    }  # fmt: skip
    problem = document["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "reference"} <= set(problem)


def test_the_reference_page_keeps_the_portals_csp(app):
    page = app.test_client().get("/api/v1/docs")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<code>POST /api/v1/apps</code>" in text and 'id="schema-DeployIn"' in text
    assert "cdn" not in text.lower() and "<script" not in text.replace('<script src="/static/', "")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]

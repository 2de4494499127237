"""Each error handler sends exactly one event, with its tag, context and the user."""

import secrets

import pytest
from flask import abort

from app.exceptions import AppServiceError, ProxmoxError
from tests.conftest import log_in


@pytest.fixture
def boom_app(sentry):
    """An app with routes that fail in each way, reporting to a recording transport."""
    app, transport = sentry()

    @app.route("/boom/unhandled")
    def unhandled():
        error = KeyError("missing-thing")
        error.widget = "gear"
        raise error

    @app.route("/boom/service")
    def service():
        raise AppServiceError("The quota is used up.", http_status=409, details={"quota": 3})

    @app.route("/boom/abort500")
    def abort500():
        abort(503)

    @app.route("/boom/abort404")
    def abort404():
        abort(404)

    @app.route("/boom/abort403")
    def abort403():
        abort(403)

    return app, transport


def only_event(transport) -> dict:
    events = transport.events()
    assert len(events) == 1, [e.get("exception") for e in events]
    return events[0]


def test_proxmox_error_event(sentry):
    app, transport = sentry(PROXMOX_TOKEN_VALUE="wrong-token-value-123")
    client = log_in(app)
    response = client.get("/")
    assert response.status_code == 502
    event = only_event(transport)
    assert event["tags"]["error_type"] == "proxmox"
    assert event["tags"]["user_role"] == "admin" and event["tags"]["authenticated"] == "true"
    context = event["contexts"]["proxmox_error"]
    assert context["api_path"] == "/cluster/resources" and context["status_code"] == 401
    assert context["request_path"] == "/" and context["request_method"] == "GET"
    assert event["user"]["username"] == "alice" and event["user"]["role"] == "admin"
    assert event["contexts"]["proxmox"]["auth_method"] == "token"
    assert event["event_id"] in response.data.decode()  # the error reference on the page
    assert "wrong-token-value-123" not in str(transport.payloads())


def test_timeout_is_a_504_with_one_event(sentry, pve):
    app, transport = sentry(PROXMOX_TIMEOUT=1)
    client = log_in(app)
    pve.flaky_network(hang_rate=1.0, hang_secs=3)
    response = client.get("/")
    pve.flaky_network()
    assert response.status_code == 504
    assert only_event(transport)["contexts"]["proxmox_error"]["kind"] == "timeout"


def test_app_service_error_event(boom_app):
    app, transport = boom_app
    response = log_in(app).get("/boom/service")
    assert response.status_code == 409
    event = only_event(transport)
    assert event["tags"]["error_type"] == "app_service"
    context = event["contexts"]["app_service_error"]
    assert context == {
        "error_message": "The quota is used up.",
        "request_path": "/boom/service",
        "request_method": "GET",
        "quota": 3,
    }


def test_unhandled_error_event_and_json_reference(boom_app):
    app, transport = boom_app
    response = log_in(app).get("/boom/unhandled?page=2", headers={"Accept": "application/json"})
    assert response.status_code == 500
    event = only_event(transport)
    assert event["tags"]["error_type"] == "unhandled"
    context = event["contexts"]["unhandled_error"]
    assert context["exception_type"] == "KeyError" and context["exception_module"] == "builtins"
    assert context["attributes"] == {"widget": "'gear'"}
    assert context["query_params"] == {"page": ["2"]}
    assert response.json["reference"] == event["event_id"]


def test_5xx_http_exception_is_sent_with_status_tag(boom_app):
    app, transport = boom_app
    assert log_in(app).get("/boom/abort500").status_code == 503
    assert only_event(transport)["tags"]["status_code"] == "503"


@pytest.mark.parametrize("path", ["/boom/abort404", "/boom/abort403", "/no/such/page"])
def test_4xx_are_never_sent(boom_app, path):
    app, transport = boom_app
    assert log_in(app).get(path).status_code in (403, 404)
    assert transport.events() == []


def test_admin_page_403_for_user_is_not_sent(sentry):
    app, transport = sentry()
    assert log_in(app, "bob", "user").get("/admin/users").status_code == 403
    assert transport.events() == []


def test_anonymous_error_is_tagged_unauthenticated(boom_app):
    app, transport = boom_app
    app.view_functions["health.healthz"] = lambda: (_ for _ in ()).throw(RuntimeError("x"))
    assert app.test_client().get("/healthz").status_code == 500
    event = only_event(transport)
    assert event["tags"]["authenticated"] == "false" and "user" not in event


def test_failing_error_handler_gives_plain_500(boom_app, monkeypatch):
    app, transport = boom_app
    import app.errors as errors

    monkeypatch.setattr(errors, "render_template", lambda *a, **k: 1 / 0)
    response = log_in(app).get("/boom/unhandled")
    assert response.status_code == 500
    assert response.data == b"500 Internal Server Error"


def test_proxmox_error_outside_a_request_is_reported_with_its_guest(sentry):
    from app.observability.reports import report_proxmox_error

    app, transport = sentry()
    error = ProxmoxError("x failed", kind="task", node="pve1", vmid=100, upid="UPID:pve1:1")
    with app.app_context():  # as in a CLI command: no request, no user
        reference = report_proxmox_error(error)
    event = only_event(transport)
    assert event["event_id"] == reference
    context = event["contexts"]["proxmox_error"]
    assert (context["node"], context["vmid"], context["upid"]) == ("pve1", 100, "UPID:pve1:1")
    assert "request_path" not in context and "user" not in event


def test_hidden_values_are_blanked_also_as_they_appear_in_a_url(sentry):
    from urllib.parse import quote, quote_plus

    from app import observability
    from app.observability.reports import report_proxmox_error

    app, transport = sentry()
    secret = secrets.token_hex(6)  # not in this file: stack traces carry its source lines
    ticket = f"PVEVNC:{secret}/c+d e"
    with app.app_context(), observability.hiding([ticket]):
        query = f"vncticket={quote(ticket, safe='')}&other={quote_plus(ticket)}"
        try:
            raise ProxmoxError(f"refused: {ticket} at ?{query}", kind="api", node="pve1")
        except ProxmoxError as error:
            report_proxmox_error(error)
    sent = str(only_event(transport))
    assert secret not in sent and "vncticket=" in sent

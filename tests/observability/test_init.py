"""Initialisation: environment detection, sampling, PII, scrubbing, breadcrumbs, sentry-check."""

import pytest
import sentry_sdk

from app import create_app
from app.observability import detect_environment
from tests.conftest import (
    ADMIN_PASSWORD,
    TOKEN_VALUE,
    assert_no_secrets,
    csrf_token_in,
    log_in,
)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", "development"),
        ("local", "development"),
        ("test", "development"),
        ("portal.local", "development"),
        ("portal.localhost", "development"),
        ("ci.test", "development"),
        ("127.0.0.1", "development"),
        ("127.4.5.6", "development"),
        ("portal.example.com", "production"),
        ("10.0.0.5", "production"),
        ("testing.example.com", "production"),
    ],
)
def test_detect_environment(host, expected):
    assert detect_environment(host) == expected


def options():
    return sentry_sdk.get_client().options


def sampler_rate():
    """The share traced now (of a request that can be traced, or a job)."""
    return options()["traces_sampler"]({})


def test_development_samples_everything_with_debug(sentry, monkeypatch):
    monkeypatch.setattr("socket.gethostname", lambda: "portal.local")
    sentry(SENTRY_ENVIRONMENT=None, SENTRY_DEBUG=None)
    assert options()["environment"] == "development"
    assert options()["debug"] is True
    assert options()["sample_rate"] == 1.0
    assert sampler_rate() == 1.0
    sentry_sdk.get_client().options["debug"] = False  # keep pytest's closed stderr quiet at exit


def test_production_samples_ten_percent_without_debug(sentry, monkeypatch):
    monkeypatch.setattr("socket.gethostname", lambda: "portal.example.com")
    sentry(SENTRY_ENVIRONMENT=None, SENTRY_DEBUG=None)
    assert options()["environment"] == "production"
    assert options()["debug"] is False
    assert options()["sample_rate"] == 1.0
    assert sampler_rate() == 0.1
    assert (options()["attach_stacktrace"], options()["max_breadcrumbs"]) == (True, 100)


def test_overrides_and_release(sentry):
    sentry(SENTRY_TRACES_SAMPLE_RATE=0.5, SENTRY_RELEASE="portal@1.2.3")
    assert sampler_rate() == 0.5
    assert options()["release"] == "portal@1.2.3"


def test_release_defaults_to_app_version(sentry):
    sentry(APP_VERSION="7.7.7")
    assert options()["release"] == "7.7.7"


@pytest.mark.parametrize(
    "path", ["/healthz", "/static/css/portal.css", "/dashboard/live", "/tasks/7/progress",
             "/my-apps/3/progress"],
)  # fmt: skip
def test_health_static_and_polls_are_never_traced(sentry, path):
    app, transport = sentry(SENTRY_TRACES_SAMPLE_RATE=1.0)
    client = log_in(app)
    transport.envelopes.clear()
    client.get(path).close()  # a static file is sent from an open file
    assert not [item for envelope in transport.envelopes for item in envelope.items
                if item.type == "transaction"]  # fmt: skip


def test_no_dsn_means_no_sentry(make_app):
    make_app(SENTRY_DSN=None)
    assert not sentry_sdk.get_client().is_active()


def test_malformed_dsn_keeps_the_portal_serving(make_app, caplog):
    app = make_app(SENTRY_DSN="not a dsn")
    assert "Sentry is disabled" in caplog.text
    assert app.test_client().get("/healthz").status_code == 200


def login_and_fail(app):
    client = log_in(app)
    client.get("/nodes/pve1")  # a successful page with Proxmox calls: breadcrumbs
    return client, client.get("/", environ_base={"REMOTE_ADDR": "127.0.0.42"})


def test_ip_address_arrives_with_pii_on(sentry):
    app, transport = sentry(PROXMOX_TOKEN_VALUE="a-wrong-token-value")
    login_and_fail(app)
    user = transport.events()[-1]["user"]
    assert user["ip_address"] == "127.0.0.42"
    assert user["email"] == "alice@example.com"


def test_pii_switch_leaves_out_email_and_ip(sentry):
    app, transport = sentry(PROXMOX_TOKEN_VALUE="a-wrong-token-value", SENTRY_SEND_USER_PII=False)
    login_and_fail(app)
    user = transport.events()[-1]["user"]
    assert "ip_address" not in user and "email" not in user
    assert user["username"] == "alice" and user["role"] == "admin"


def test_breadcrumbs_for_requests_and_proxmox_calls(sentry):
    app, transport = sentry(PROXMOX_TOKEN_VALUE="a-wrong-token-value")
    login_and_fail(app)
    crumbs = transport.events()[-1]["breadcrumbs"]["values"]
    assert any(c["category"] == "request" and c["message"] == "GET /" for c in crumbs)
    proxmox = [c for c in crumbs if c["category"] == "proxmox"]
    assert proxmox[-1]["data"]["path"] == "/cluster/resources"
    assert proxmox[-1]["data"]["status_code"] == 401
    assert "duration_ms" in proxmox[-1]["data"]


def test_proxmox_calls_are_spans_in_traces(sentry):
    app, transport = sentry(SENTRY_TRACES_SAMPLE_RATE=1.0)
    client, _ = login_and_fail(app)
    transactions = [p for p in transport.payloads() if p.get("type") == "transaction"]
    spans = [s for t in transactions for s in t.get("spans", []) if s["op"] == "http.client"]
    assert any(s["description"] == "proxmox GET /nodes/pve1/status" for s in spans)
    # One span per call, the portal's own: the SDK's http.client spans are off (they doubled
    # every call and cost a few percent of the requests per second; docs/PERFORMANCE.md).
    assert all(s["description"].startswith("proxmox ") for s in spans)


def test_secret_sweep_with_secrets_in_every_place(sentry, pve):
    """Passwords, CSRF, cookies, Authorization, PVEAuthCookie, token, SECRET_KEY: none arrive."""
    app, transport = sentry(WTF_CSRF_ENABLED=True, SENTRY_TRACES_SAMPLE_RATE=1.0)

    @app.route("/boom/leak", methods=["GET", "POST"])
    def leak():
        raise RuntimeError(f"token {TOKEN_VALUE} key {app.config['SECRET_KEY']}")

    client = log_in(app)
    token = csrf_token_in(client.get("/account/password").data)
    session_cookie = client.get_cookie("session").value

    client.post(
        "/boom/leak?password=hunter2-query",
        data={"password": ADMIN_PASSWORD, "csrf_token": token, "new_password": "hunter3-form"},
        headers={
            "Authorization": "Bearer auth-header-secret",
            "Cookie": f"PVEAuthCookie=pve-ticket-secret; session={session_cookie}",
        },
    )
    assert transport.events(), "the error was not reported"
    assert_no_secrets(
        transport.payloads(),
        [
            token,
            session_cookie,
            "hunter2-query",
            "hunter3-form",
            "auth-header-secret",
            "pve-ticket-secret",
        ],
    )


def test_sentry_check_sends_an_event(sentry):
    app, transport = sentry(SENTRY_RELEASE="portal@9")
    result = app.test_cli_runner().invoke(args=["sentry-check"])
    assert result.exit_code == 0, result.output
    event = transport.events()[0]
    assert f"Sent test event {event['event_id']}" in result.output
    assert "environment: development" in result.output and "release: portal@9" in result.output


def test_sentry_check_without_dsn_fails_clearly(make_app):
    result = make_app(SENTRY_DSN=None).test_cli_runner().invoke(args=["sentry-check"])
    assert result.exit_code == 1
    assert "SENTRY_DSN is not set" in result.output


def test_create_app_without_sentry_settings_has_no_sentry(monkeypatch):
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    create_app({"TESTING": True, "SECRET_KEY": "x" * 16, "SENTRY_DSN": None})
    assert not sentry_sdk.get_client().is_active()


def test_error_log_lines_are_events_and_lesser_ones_breadcrumbs(sentry):
    import logging

    app, transport = sentry()
    log = logging.getLogger("app.services.tasks")
    with app.app_context():
        access = logging.getLogger("gunicorn.access")
        access.setLevel(logging.INFO)  # as gunicorn sets it
        access.info("GET / 200: never a breadcrumb")
        access.setLevel(logging.NOTSET)
        log.warning("a warning: only a breadcrumb")
        log.error("an error: one event")
        sentry_sdk.flush()
    events = transport.events()
    assert [e["logentry"]["message"] for e in events] == ["an error: one event"]
    crumbs = [c["message"] for c in events[0]["breadcrumbs"]["values"]]
    assert "a warning: only a breadcrumb" in crumbs
    assert not [c for c in crumbs if "never a breadcrumb" in c]

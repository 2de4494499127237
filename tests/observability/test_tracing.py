"""A request's transaction is built only when the request is traced, and is then whole."""

import pytest
import sentry_sdk

from tests.conftest import log_in


@pytest.fixture
def built(monkeypatch):
    """Counts the transactions the SDK builds, traced or not."""
    count = []
    real = sentry_sdk.tracing.Transaction.__init__

    def counting(self, *args, **kwargs):
        count.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(sentry_sdk.tracing.Transaction, "__init__", counting)
    return count


def transactions(transport):
    return [(envelope.headers["trace"], item.payload.json) for envelope in transport.envelopes
            for item in envelope.items if item.type == "transaction"]  # fmt: skip


@pytest.fixture
def half_traced(sentry, built):
    """A logged-in client of a portal tracing 50 % of its requests; nothing recorded yet."""
    app, transport = sentry(SENTRY_TRACES_SAMPLE_RATE=0.5)
    client = log_in(app)
    transport.envelopes.clear()
    built.clear()
    return client, transport


def test_requests_that_are_not_traced_build_no_transaction(half_traced, built, monkeypatch):
    client, transport = half_traced
    monkeypatch.setattr("random.random", lambda: 0.75)  # outside the 50 % share
    assert client.get("/").status_code == 200
    monkeypatch.setattr("random.random", lambda: 0.0)  # within any share, but a poll
    assert client.get("/dashboard/live").status_code == 200
    assert built == []
    assert transactions(transport) == []


def test_a_traced_request_is_one_whole_transaction_at_its_share(half_traced, built, monkeypatch):
    client, transport = half_traced
    monkeypatch.setattr("random.random", lambda: 0.25)  # within the 50 % share
    assert client.get("/").status_code == 200
    assert len(built) == 1
    [(trace, payload)] = transactions(transport)
    assert trace["sample_rate"] == "0.5" and trace["sampled"] == "true"
    assert payload["transaction"] == "dashboard.index"
    assert payload["contexts"]["trace"]["op"] == "http.server"
    assert payload["contexts"]["trace"]["status"] == "ok"
    assert payload["request"]["url"] == "http://localhost/"
    assert payload["user"]["username"] == "alice" and payload["tags"]["user_role"] == "admin"
    spans = {span["description"] for span in payload["spans"]}
    assert "proxmox GET /cluster/resources" in spans


def test_a_failing_traced_request_is_an_error_in_its_trace(sentry, monkeypatch):
    app, transport = sentry(SENTRY_TRACES_SAMPLE_RATE=1.0)

    @app.route("/boom/traced")
    def boom():
        raise RuntimeError("traced failure")

    client = log_in(app)
    transport.envelopes.clear()
    assert client.get("/boom/traced").status_code == 500
    [(_, payload)] = transactions(transport)
    assert payload["contexts"]["trace"]["status"] == "internal_error"
    [event] = transport.events()
    assert event["exception"]["values"][-1]["value"] == "traced failure"
    assert event["contexts"]["trace"]["trace_id"] == payload["contexts"]["trace"]["trace_id"]

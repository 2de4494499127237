"""A Sentry server that is down or hangs never slows a page; a failure is logged once."""

import logging
import socket
import time

import pytest
import sentry_sdk
from flask import abort

from tests.conftest import free_port, log_in

SLOW_PAGE = 1.0  # seconds; a page waiting on Sentry would take the transport's 30 s timeout


@pytest.fixture
def hanging_server():
    """A TCP server on loopback that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


def failing_portal(sentry, dsn_port: int):
    app, _ = sentry(SENTRY_DSN=f"http://public@127.0.0.1:{dsn_port}/1", SENTRY_TRANSPORT=None)

    @app.route("/boom")
    def boom():
        abort(503)

    return log_in(app)


def timed_get(client, path: str):
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


def test_down_sentry_server_is_one_warning_and_no_delay(sentry, caplog):
    client = failing_portal(sentry, free_port())
    caplog.set_level(logging.WARNING, logger="app.observability")
    for _ in range(3):
        response, seconds = timed_get(client, "/boom")
        assert response.status_code == 503 and seconds < SLOW_PAGE
        assert b"Error reference" in response.data
    sentry_sdk.flush(timeout=5)
    warnings = [r for r in caplog.records if r.name == "app.observability"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "could not be sent to 127.0.0.1:" in warnings[0].getMessage()
    assert client.get("/").status_code == 200


def test_hanging_sentry_server_never_slows_a_page(sentry, hanging_server):
    client = failing_portal(sentry, hanging_server)
    for path in ("/boom", "/boom", "/"):
        response, seconds = timed_get(client, path)
        assert response.status_code in (503, 200) and seconds < SLOW_PAGE


def test_sentry_check_fails_when_the_server_does_not_take_the_event(sentry):
    app, _ = sentry(SENTRY_DSN=f"http://public@127.0.0.1:{free_port()}/1", SENTRY_TRANSPORT=None)
    result = app.test_cli_runner().invoke(args=["sentry-check"])
    assert result.exit_code == 1
    assert "Sentry did not take the test event" in result.output
    assert "Sent test event" not in result.output

"""Consoles under gunicorn (2 threaded workers, preload) reporting to Bugsink, as deployed: a
normal console sends no Sentry event and leaves its token out of the access log; a user
holding every console they may open cannot keep others from being served; a 64 MiB message
closes the console with 1009 and the worker stays small."""

from __future__ import annotations

import html
import re
import time
import uuid
from contextlib import ExitStack

import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD
from tests.e2e.conftest import start_portal
from tests.e2e.test_limits import rss_kib

TERMINALS = ["/guests/pve2/lxc/200", "/guests/pve3/lxc/201", "/guests/pve1/lxc/202",
             "/guests/pve2/lxc/203", "/guests/pve3/lxc/204"]  # fmt: skip


@pytest.fixture(scope="module")
def portal(tmp_path_factory, bugsink, pve_server):
    portal = start_portal(
        tmp_path_factory.mktemp("portal"), pve_server, "tests.e2e.failing_app:app",
        SENTRY_DSN=bugsink.dsn, SENTRY_ENVIRONMENT="development", SENTRY_DEBUG="false",
        SENTRY_RELEASE=f"portal-e2e-{uuid.uuid4().hex[:8]}",
    )  # fmt: skip
    yield portal
    portal.stop()


def open_terminal(portal, session: requests.Session, guest: str, url: str = ""):
    """The guest's terminal through the portal's websocket, as its page opens it (or at a
    socket URL the page gave before)."""
    if not url:
        page = session.get(portal.url + guest + "/console/terminal").text
        url = html.unescape(re.search(r'data-socket="([^"]+)"', page).group(1))
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    return connect(
        url, additional_headers={"Cookie": cookie, "Origin": portal.url}, open_timeout=10,
        proxy=None, max_size=None,
    )  # fmt: skip


def closed_with(socket) -> tuple[int | None, str]:
    """Wait for the portal to close the socket: (code, reason)."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            socket.recv(10)
    frame = closed.value.rcvd
    return (frame.code, frame.reason) if frame else (None, "")


def test_a_normal_console_sends_no_event_and_keeps_its_token_out_of_the_log(portal, bugsink):
    alice = portal.session("alice", ADMIN_PASSWORD)
    with open_terminal(portal, alice, TERMINALS[0]) as socket:
        assert b"starting serial terminal" in socket.recv(10)
        socket.send("0:5:hello")
        assert socket.recv(10) == b"hello"
        used_url = socket.request.path
    # A used link is refused before the handshake: that refusal is in the access log.
    with pytest.raises(InvalidStatus):
        open_terminal(portal, alice, "", url=portal.url.replace("http", "ws") + used_url)
    # The one event of this test: a 503, sent after the console, so that it has arrived
    # means every event before it had its chance to arrive.
    control = alice.get(portal.url + "/e2e/unavailable", headers={"Accept": "application/json"})
    reference = control.json()["reference"]
    events = bugsink.wait_for_events(1)
    time.sleep(1)
    events = bugsink.events()
    assert [e["event_id"].replace("-", "") for e in events] == [reference.replace("-", "")]
    log = portal.log_path.read_text()
    assert '/console/terminal/socket?token=[hidden] HTTP/1.1" 403' in log
    assert not re.search(r"token=(?!\[hidden\])", log)


def test_a_user_with_every_console_open_cannot_stop_others_being_served(portal):
    alice = portal.session("alice", ADMIN_PASSWORD)
    with ExitStack() as held:
        for guest in TERMINALS[:4]:
            socket = held.enter_context(open_terminal(portal, alice, guest))
            assert b"starting serial terminal" in socket.recv(10)
        page = alice.get(portal.url + TERMINALS[4] + "/console/terminal").text
        assert "You have 4 consoles open, the most at once" in page
        # Everyone else is served at once, on both workers (new connections).
        for _ in range(6):
            started = time.monotonic()
            assert requests.get(portal.url + "/healthz", timeout=5).status_code == 200
            assert requests.get(portal.url + "/login", timeout=5).status_code == 200
            assert time.monotonic() - started < 2
        other = portal.session("bob", USER_PASSWORD)
        assert other.get(portal.url + "/", timeout=5).status_code == 200
    # Closed consoles free their places (the relay notices within a second).
    time.sleep(1.5)
    with open_terminal(portal, alice, TERMINALS[4]) as socket:
        assert b"starting serial terminal" in socket.recv(10)


def test_a_64_mib_message_closes_the_console_and_the_worker_stays_small(portal):
    alice = portal.session("alice", ADMIN_PASSWORD)
    before = {pid: rss_kib(pid) for pid in portal.worker_pids}
    with open_terminal(portal, alice, TERMINALS[1]) as socket:
        socket.recv(10)
        try:
            socket.send(b"0" * (64 * 1024 * 1024))
        except (ConnectionClosed, OSError):
            pass  # the portal may close before the last byte is sent
        code, _ = closed_with(socket)
    assert code == 1009
    after = {pid: rss_kib(pid) for pid in portal.worker_pids}
    assert all(after[pid] - before[pid] < 30 * 1024 for pid in before), (before, after)
    # Its row is closed and audited with why (the relay notices within a second).
    deadline = time.monotonic() + 10
    while "(a message over CONSOLE_MAX_MESSAGE_BYTES)" not in alice.get(portal.url + "/audit").text:
        assert time.monotonic() < deadline, "the console's end was not audited"
        time.sleep(0.3)

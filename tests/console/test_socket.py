"""The console's websocket, end to end through the portal: only for the session that opened
the page, from the portal's own origin, for a guest the user may see, once per token; the
relay lets the browser in without the VNC password and carries the guest's screen; the
session's end closes it; opening and closing are audited with the duration."""

import logging
import struct
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from app.extensions import db
from app.models import AuditEntry, ConsoleSession
from app.services import ownership, users
from app.services.console.rfb import Stream
from scripts.demo_vnc import demo_screen
from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD, log_in
from tests.console.conftest import SCREEN, signed_in, socket_path
from tests.console.test_relay import framebuffer

PAGE = "/guests/pve1/qemu/101/console/screen"
BROWSER_LOG = logging.getLogger("tests.browser")  # the browser's side, apart from the portal's


def open_console(base: str, session, origin: str | None = None, path: str | None = None):
    url = path or socket_path(session.get(base + PAGE).text)  # ws://… (a websocket rule's URL)
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    return connect(
        url,
        additional_headers={"Cookie": cookie, "Origin": origin or base},
        open_timeout=5, proxy=None, logger=BROWSER_LOG,
    )  # fmt: skip


def open_terminal(base: str, session):
    """Container 201's terminal, opened from its page as the browser would."""
    page = session.get(base + "/guests/pve1/lxc/201/console/terminal").text
    return open_console(base, session, path=socket_path(page))


def rfb_without_password(socket) -> Stream:
    """The browser's side of the handshake the portal offers: RFB 3.8, no authentication."""
    stream = Stream(socket.recv, timeout=5)
    assert stream.read(12) == b"RFB 003.008\n"
    socket.send(b"RFB 003.008\n")
    assert stream.read(2) == b"\x01\x01"  # one security type: none
    socket.send(b"\x01")
    assert stream.read(4) == b"\x00\x00\x00\x00"
    return stream


def test_the_browser_gets_the_screen_without_the_vnc_password(app, vm, served):
    alice = signed_in(served, "alice", ADMIN_PASSWORD)
    page = alice.get(served + PAGE).text
    assert "PVEVNC" not in page  # no Proxmox ticket (nor password: the portal keeps it)
    with open_console(served, alice, path=socket_path(page)) as socket:
        name, pixels = framebuffer(socket, rfb_without_password(socket))
    assert name == b"desk"
    width, height, rgb = SCREEN
    assert len(pixels) == width * height * 4 and pixels[:3] == bytes((rgb[2], rgb[1], rgb[0]))
    deadline = time.monotonic() + 5
    with app.app_context():
        while time.monotonic() < deadline:
            entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
            if len([e for e in entries if e.action == "console"]) == 2:
                break
            db.session.remove()
            time.sleep(0.1)
        opened, closed = [e for e in entries if e.action == "console"]
    assert opened.detail == "screen console opened" and opened.target == "qemu/101 on pve1"
    assert closed.detail.startswith("screen console closed after ")


def key(socket, keysym: int, down: bool = True) -> None:
    socket.send(struct.pack(">BBxxI", 4, down, keysym))  # KeyEvent


def screen_update(socket, stream: Stream) -> bytes:
    """Ask for an incremental update; the pixels of the one the guest sends when it changes."""
    socket.send(struct.pack(">BBHHHH", 3, 1, 0, 0, 32, 24))
    assert stream.read(1) == b"\x00" and struct.unpack(">xH", stream.read(3))[0] == 2
    pixels = b""
    for _ in range(2):
        _, _, w, h, _ = struct.unpack(">HHHHi", stream.read(12))
        pixels += stream.read(w * h * 4)
    return pixels


def test_keys_and_ctrl_alt_del_reach_the_guest_and_its_screen_answers(vm, served):
    vm.screen = demo_screen(101, 32, 24)  # room for four typed keys on its bottom line
    alice = signed_in(served, "alice", ADMIN_PASSWORD)
    with open_console(served, alice) as socket:
        stream = rfb_without_password(socket)
        _, before = framebuffer(socket, stream)
        for keysym in b"hi":
            key(socket, keysym)
            key(socket, keysym, down=False)
        after_typing = screen_update(socket, stream)
        for keysym in (0xFFE3, 0xFFE9, 0xFFFF):  # what noVNC's sendCtrlAltDel sends
            key(socket, keysym)
        after_reboot = screen_update(socket, stream)
    white = b"\xff\xff\xff\x00"
    assert before.count(white) == 0
    assert after_typing.count(white) == 2 * 6 * 10  # two blocks of 6 by 10 pixels
    assert after_reboot == before
    assert (vm.typed, vm.reboots) == (0, 1)


def test_a_token_opens_one_console(vm, served):
    alice = signed_in(served, "alice", ADMIN_PASSWORD)
    path = socket_path(alice.get(served + PAGE).text)
    with open_console(served, alice, path=path) as socket:
        rfb_without_password(socket)
    with pytest.raises(InvalidStatus) as refused:
        open_console(served, alice, path=path)
    assert refused.value.response.status_code == 403


def test_cross_site_and_foreign_handshakes_are_refused(vm, served):
    alice = signed_in(served, "alice", ADMIN_PASSWORD)
    with pytest.raises(InvalidStatus) as refused:
        open_console(served, alice, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    bob = signed_in(served, "bob", USER_PASSWORD)
    assert bob.get(served + PAGE).status_code == 404  # not his guest
    path = socket_path(alice.get(served + PAGE).text)
    with pytest.raises(InvalidStatus) as stolen:
        open_console(served, bob, path=path)  # alice's token in bob's session
    assert stolen.value.response.status_code == 403


def disable_bob(app, base, bob) -> None:
    with app.app_context():
        users.set_active(users.find_by_username("bob"), False, acting="shell:test")


@pytest.mark.parametrize(
    "end_session", [lambda app, base, bob: bob.post(base + "/logout"), disable_bob],
    ids=["logout", "disabled by an admin"],
)  # fmt: skip
def test_the_sessions_end_closes_the_console(app, vm, served, assign, end_session):
    assign(101, "bob")
    bob = signed_in(served, "bob", USER_PASSWORD)
    with open_console(served, bob) as socket:
        rfb_without_password(socket)
        end_session(app, served, bob)
        started = time.monotonic()
        with pytest.raises(ConnectionClosed):
            while time.monotonic() - started < 10:
                try:
                    socket.recv(0.5)
                except TimeoutError:
                    pass
    assert time.monotonic() - started < 5  # the relay checks the session every 2 s


def test_a_containers_terminal_echoes_what_is_typed(ct, served):
    alice = signed_in(served, "alice", ADMIN_PASSWORD)
    page = alice.get(served + "/guests/pve1/lxc/201/console/terminal").text
    assert "PVEVNC" not in page
    with open_console(served, alice, path=socket_path(page)) as socket:
        assert b"starting serial terminal" in socket.recv(5)
        socket.send("1:80:24:")  # a resize, then keys, in termproxy's protocol
        socket.send("0:5:hello")
        assert socket.recv(5) == b"hello"
    assert alice.get(served + "/guests/pve1/lxc/201/console/screen").status_code == 404


def test_a_console_that_cannot_open_says_why_and_is_reported_once(sentry, pve, vm, serve):
    app, transport = sentry()
    base = serve(app)
    log_in(app)  # creates alice
    alice = signed_in(base, "alice", ADMIN_PASSWORD)
    pve.fail("POST", "/nodes/pve1/qemu/101/vncproxy", 500, "unable to start vncproxy")
    with open_console(base, alice) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(10)
    (event,) = transport.events()
    assert event["tags"]["error_type"] == "proxmox"
    context = event["contexts"]["console"]
    assert (context["node"], context["vmid"], context["phase"]) == ("pve1", 101, "ticket")
    assert closed.value.rcvd.code == 1011
    assert f"error reference {event['event_id']}" in closed.value.rcvd.reason


def test_an_idle_terminal_closes(make_app, accounts, ct, serve):
    base = serve(make_app(CONSOLE_IDLE_SECONDS=1))
    alice = signed_in(base, "alice", ADMIN_PASSWORD)
    with open_terminal(base, alice) as socket:
        socket.recv(5)  # the terminal's greeting
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            while time.monotonic() - started < 10:
                socket.send("2")  # keep-alives do not count as someone typing
                try:
                    socket.recv(0.5)
                except TimeoutError:
                    pass
    assert "idle" in closed.value.rcvd.reason and time.monotonic() - started < 5


def test_a_guest_taken_away_cannot_be_opened_with_an_old_link(app, accounts, vm, served, assign):
    assign(101, "bob")
    bob = signed_in(served, "bob", USER_PASSWORD)
    path = socket_path(bob.get(served + PAGE).text)
    with app.app_context():  # the admin gives the guest to nobody
        ownership.forget(101)
        db.session.commit()
    with pytest.raises(InvalidStatus) as refused:
        open_console(served, bob, path=path)
    assert refused.value.response.status_code == 404  # as the page would be now


def wait_until_closed(socket) -> tuple[int | None, str]:
    """Read until the portal closes the socket: its close code and reason."""
    with pytest.raises(ConnectionClosed) as closed:
        started = time.monotonic()
        while time.monotonic() - started < 10:
            try:
                socket.recv(0.5)
            except TimeoutError:
                pass
    frame = closed.value.rcvd
    return (frame.code, frame.reason) if frame else (None, "")


def rows_once_closed(app) -> list[tuple]:
    """closed_sessions once every row is closed (the handler closes it after the socket)."""
    started = time.monotonic()
    rows = closed_sessions(app)
    while not all(closed for _, closed in rows):
        assert time.monotonic() - started < 5, rows
        time.sleep(0.1)
        rows = closed_sessions(app)
    return rows


def closed_sessions(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(db.select(ConsoleSession).order_by(ConsoleSession.id))
        return [(row.close_reason, row.closed_at is not None) for row in rows]


def test_proxmox_closing_on_a_too_big_message_ends_the_console_cleanly(sentry, ct, serve):
    """fakepve, like pveproxy, closes with 1009 on a message over its limit (aiohttp: 4 MiB);
    the portal's next send to it fails: the console ends, its row is closed and audited, and
    nothing is reported."""
    app, transport = sentry(CONSOLE_MAX_MESSAGE_BYTES=8 * 1024 * 1024)
    base = serve(app)
    log_in(app)  # creates alice
    alice = signed_in(base, "alice", ADMIN_PASSWORD)
    with open_terminal(base, alice) as socket:
        socket.recv(5)
        for _ in range(3):
            try:
                socket.send(b"0" * (5 * 1024 * 1024))
                time.sleep(0.2)
            except ConnectionClosed:
                break
        code, reason = wait_until_closed(socket)
    assert code == 1000 and "closed by Proxmox" in reason
    assert rows_once_closed(app) == [("closed by Proxmox", True)]
    with app.app_context():
        details = [e.detail for e in db.session.scalars(db.select(AuditEntry))]
    assert any("closed after" in (d or "") and "closed by Proxmox" in d for d in details)
    assert transport.events() == []


@pytest.mark.parametrize("answer", [None, b"HTTP/1.1 200\n"], ids=["silent", "not RFB"])
def test_a_browser_that_never_answers_the_vnc_handshake_is_not_reported(sentry, vm, serve, answer):
    app, transport = sentry()
    base = serve(app)
    log_in(app)
    alice = signed_in(base, "alice", ADMIN_PASSWORD)
    with open_console(base, alice) as socket:
        assert socket.recv(5) == b"RFB 003.008\n"
        if answer is not None:
            socket.send(answer)
        code, reason = wait_until_closed(socket)  # silent: after PROXMOX_TIMEOUT
    assert "the browser did not finish the handshake" in reason
    assert rows_once_closed(app) == [("the browser did not finish the handshake", True)]
    assert transport.events() == []


def test_a_user_has_at_most_consoles_per_user_open(make_app, accounts, ct, vm, serve):
    app = make_app(CONSOLES_PER_USER=1)
    base = serve(app)
    alice = signed_in(base, "alice", ADMIN_PASSWORD)
    terminal = "/guests/pve1/lxc/201/console/terminal"
    first_link, second_link = (socket_path(alice.get(base + terminal).text) for _ in range(2))
    with open_console(base, alice, path=first_link) as socket:
        socket.recv(5)
        page = alice.get(base + PAGE).text
        assert "You have 1 consoles open, the most at once: close one" in page
        with open_console(base, alice, path=second_link) as refused:
            code, reason = wait_until_closed(refused)
        assert code == 1008 and reason.startswith("You have 1 consoles open")
    started = time.monotonic()  # the relay notices the close within a second
    while "You have 1 consoles open" in alice.get(base + PAGE).text:
        assert time.monotonic() - started < 5, "the closed console still counts"
        time.sleep(0.2)


def test_a_worker_keeps_threads_for_pages(make_app, accounts, ct, serve):
    app = make_app(CONSOLES_PER_WORKER=1)
    base = serve(app)
    alice = signed_in(base, "alice", ADMIN_PASSWORD)
    terminal = "/guests/pve1/lxc/201/console/terminal"
    links = [socket_path(alice.get(base + terminal).text) for _ in range(2)]
    with open_console(base, alice, path=links[0]) as socket:
        socket.recv(5)
        with open_console(base, alice, path=links[1]) as refused:
            code, reason = wait_until_closed(refused)
        assert code == 1013 and "as many consoles open as it can serve" in reason
        assert alice.get(base + "/").status_code == 200


def test_a_message_over_the_limit_closes_the_console_with_1009(make_app, accounts, ct, serve):
    app = make_app(CONSOLE_MAX_MESSAGE_BYTES=1024)
    base = serve(app)
    alice = signed_in(base, "alice", ADMIN_PASSWORD)
    with open_terminal(base, alice) as socket:
        socket.recv(5)
        socket.send("0:5:hello")
        assert socket.recv(5) == b"hello"
        socket.send("0:2000:" + "x" * 2000)
        code, _ = wait_until_closed(socket)
    assert code == 1009
    assert rows_once_closed(app) == [("a message over CONSOLE_MAX_MESSAGE_BYTES", True)]


def test_a_trickling_terminal_closes_after_console_max_seconds(make_app, accounts, ct, serve):
    """Someone (or something) typing a byte now and then is not idle, but does not keep its
    thread forever."""
    base = serve(make_app(CONSOLE_MAX_SECONDS=1.5))
    alice = signed_in(base, "alice", ADMIN_PASSWORD)
    with open_terminal(base, alice) as socket:
        socket.recv(5)
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            while time.monotonic() - started < 10:
                socket.send("0:1:x")
                try:
                    socket.recv(0.3)
                except TimeoutError:
                    pass
    assert "open too long" in closed.value.rcvd.reason and time.monotonic() - started < 5


def test_a_normal_console_session_sends_no_event(sentry, ct, serve):
    """Opened, used and closed: nothing for Sentry (under gunicorn too, where each websocket
    ends with a StopIteration: tests/e2e/test_consoles.py reads Bugsink)."""
    app, transport = sentry()
    base = serve(app)
    log_in(app)
    alice = signed_in(base, "alice", ADMIN_PASSWORD)
    with open_terminal(base, alice) as socket:
        socket.recv(5)
        socket.send("0:5:hello")
        assert socket.recv(5) == b"hello"
    assert rows_once_closed(app) == [("closed in the browser", True)]
    assert transport.events() == []

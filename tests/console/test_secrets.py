"""Proxmox's console ticket and the VNC password stay inside the portal: not in the page, the
log, the audit log or a Sentry event, also when the console fails after receiving them."""

import json
import logging

import pytest
from websockets.exceptions import ConnectionClosed

from app.extensions import db
from app.models import AuditEntry, ConsoleSession
from tests.conftest import ADMIN_PASSWORD, TOKEN_VALUE, log_in
from tests.console.conftest import signed_in
from tests.console.test_relay import framebuffer
from tests.console.test_socket import open_console, rfb_without_password


def leaked(vm, text: str) -> list[str]:
    """The secrets of vm's console found in text: a ticket (plain or in a URL), the VNC
    password, the portal's API token."""
    return [s for s in ("PVEVNC:", "PVEVNC%3A", vm.vncpassword, TOKEN_VALUE) if s in text]


def portal_log(caplog) -> str:
    """What the portal logged (fakepve's own server log, aiohttp's, is Proxmox's side)."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("aiohttp"))


def stored_text(app) -> str:
    """Everything the portal stored about consoles: audit entries and console sessions."""
    with app.app_context():
        rows = [
            *db.session.scalars(db.select(AuditEntry)),
            *db.session.scalars(db.select(ConsoleSession)),
        ]
        return json.dumps(
            [{c: str(getattr(r, c)) for c in r.__table__.columns.keys()} for r in rows]
        )


def test_a_console_that_fails_after_its_ticket_leaks_neither(sentry, pve, vm, serve, caplog):
    caplog.set_level(logging.DEBUG)
    app, transport = sentry()
    base = serve(app)
    log_in(app)
    alice = signed_in(base, "alice", ADMIN_PASSWORD)
    pve.vnc_ticket_ttl = 0  # Proxmox refuses the ticket on the websocket: the connect phase
    with open_console(base, alice) as socket:
        with pytest.raises(ConnectionClosed):
            socket.recv(10)
    (event,) = transport.events()
    assert event["contexts"]["console"]["phase"] == "connect"
    assert vm.vncpassword and vm.vncuser  # the fake issued both
    sent = json.dumps(event)
    for seen in (sent, portal_log(caplog), stored_text(app)):
        assert leaked(vm, seen) == []


def test_a_console_that_works_leaks_neither(app, vm, served, caplog):
    caplog.set_level(logging.DEBUG)
    alice = signed_in(served, "alice", ADMIN_PASSWORD)
    page = alice.get(served + "/guests/pve1/qemu/101/console/screen").text
    with open_console(served, alice) as socket:
        framebuffer(socket, rfb_without_password(socket))
    assert vm.vncpassword
    for seen in (page, portal_log(caplog), stored_text(app)):
        assert leaked(vm, seen) == []

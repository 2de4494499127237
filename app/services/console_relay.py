"""A console's life once its websocket is open: the ticket, Proxmox's websocket, both
handshakes, then the relay, which carries messages both ways until either side closes, the
console sits idle for CONSOLE_IDLE_SECONDS, or the user's session ends (logout, a new password,
disabled; checked every CHECK_SECONDS).

The ticket and the VNC password are hidden from everything sent to Sentry while they exist.
"""

from __future__ import annotations

import socket
import threading
import time

from flask import current_app

from app import observability
from app.errors import report_console_error
from app.exceptions import ProxmoxError
from app.proxmox import console as pve_console
from app.proxmox import get_client
from app.proxmox.cluster import Guest
from app.services.console import ConsoleError, open_terminal, open_vnc
from app.services.console_sessions import Grant, still_signed_in

CHECK_SECONDS = 2.0


def serve(browser, grant: Grant, guest: Guest) -> tuple[str, str | None]:
    """Open the console and relay it until it ends: (why it ended, the error reference when
    it failed; reported once, with the phase it failed in)."""
    client, phase = get_client(), "ticket"
    timeout = current_app.config["PROXMOX_TIMEOUT"]
    try:
        if grant.kind == "screen":
            ticket = pve_console.vnc_ticket(client, guest.node, guest.vmid)
        else:
            ticket = pve_console.term_ticket(client, guest.node, guest.type, guest.vmid)
        with observability.hiding([str(ticket.get("ticket")), str(ticket.get("password"))]):
            try:
                phase = "connect"
                with pve_console.open_socket(
                    client, guest.node, guest.type, guest.vmid, ticket
                ) as proxmox:
                    phase = "handshake"
                    if grant.kind == "screen":
                        first = open_vnc(browser, proxmox, ticket["password"], timeout)
                    else:
                        if greeting := open_terminal(proxmox, ticket, timeout):
                            browser.send(greeting)
                        first = b""
                    phase = "relay"
                    return relay(browser, proxmox, grant.session_id, first), None
            except (ProxmoxError, ConsoleError) as error:
                return "failed", report_console_error(error, guest, grant.kind, phase)
    except ProxmoxError as error:
        return "failed", report_console_error(error, guest, grant.kind, phase)


def relay(browser, proxmox, session_id: str, first_bytes: bytes = b"") -> str:
    """Carry messages both ways until one side closes, the console idles or the session
    ends; returns why it stopped. `browser` is the portal's server socket
    (simple-websocket), `proxmox` the client socket to Proxmox (websockets)."""
    idle_limit = current_app.config["CONSOLE_IDLE_SECONDS"]
    stopped = threading.Event()

    def to_browser() -> None:
        try:
            for message in proxmox:
                browser.send(message)
        except Exception:  # noqa: BLE001 - either side closing ends the relay
            pass
        stopped.set()

    if first_bytes:
        proxmox.send(first_bytes)
    threading.Thread(target=to_browser, daemon=True, name="console-relay").start()
    last_input = last_check = time.monotonic()
    reason = "closed by Proxmox"
    while not stopped.is_set():
        try:
            message = browser.receive(timeout=1)
        except Exception:  # noqa: BLE001 - the browser went away
            reason = "closed in the browser"
            break
        now = time.monotonic()
        if message is not None:
            proxmox.send(message)
            if message != "2":  # a terminal's keep-alive is not someone at the keyboard
                last_input = now
        if now - last_input > idle_limit:
            reason = "idle"
            break
        if now - last_check > CHECK_SECONDS:
            last_check = now
            if not still_signed_in(session_id):
                reason = "session ended"
                break
    close_quietly(browser, reason)  # first the person's side: Proxmox may take its time
    proxmox.close()
    return reason


def close_quietly(browser, reason: str, code: int = 1000) -> None:
    """Close the browser's socket, saying why; it may have gone already."""
    try:
        browser.close(reason=code, message=f"The console closed ({reason}).")
        # The server ends the TCP connection after its close frame (RFC 6455), at once: the
        # development server would otherwise keep it open, and the browser would wait.
        browser.sock.shutdown(socket.SHUT_WR)
    except Exception:  # noqa: BLE001 - closed already
        pass

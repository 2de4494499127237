"""A console's life once its websocket is open: the ticket, Proxmox's websocket, both
handshakes, then the relay, which carries messages both ways until either side closes, the
console sits idle for CONSOLE_IDLE_SECONDS, has been open CONSOLE_MAX_SECONDS, or the user's
session ends (logout, a new password, disabled; checked every CHECK_SECONDS).

Every way either socket can fail ends the console with a reason; only a failure of Proxmox's
side before the relay is reported (a browser that leaves, or never finishes its handshake,
is not a Proxmox failure). The ticket and the VNC password are hidden from everything sent to
Sentry while they exist.
"""

from __future__ import annotations

import socket
import threading
import time

from flask import current_app
from simple_websocket import ConnectionClosed as BrowserClosed

from app import observability
from app.exceptions import ProxmoxError
from app.observability.reports import report_console_error
from app.proxmox import console as pve_console
from app.proxmox import get_client
from app.proxmox.cluster import Guest
from app.proxmox.console import SocketClosed as ProxmoxClosed
from app.services.console.access import Grant, still_signed_in
from app.services.console.rfb import BrowserError, ConsoleError, open_terminal, open_vnc

CHECK_SECONDS = 2.0


class WorkerSlots:
    """The consoles this worker process holds open, at most CONSOLES_PER_WORKER: each holds
    one of its threads, and the others must stay free for pages."""

    def __init__(self) -> None:
        self._lock, self.open = threading.Lock(), 0

    def take(self) -> bool:
        """A slot for one more console, if there is one."""
        with self._lock:
            if self.open >= int(current_app.config["CONSOLES_PER_WORKER"]):
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open -= 1


worker_slots = WorkerSlots()


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
            except (BrowserError, BrowserClosed):
                reason = "the browser did not finish the handshake"
                close_quietly(browser, reason)
                return reason, None
            except (ProxmoxError, ConsoleError, ProxmoxClosed) as error:
                return "failed", report_console_error(error, guest, grant.kind, phase)
    except ProxmoxError as error:
        return "failed", report_console_error(error, guest, grant.kind, phase)


def relay(browser, proxmox, session_id: str, first_bytes: bytes = b"") -> str:
    """Carry messages both ways until one side closes, the console idles, has been open too
    long or the session ends; returns why it stopped. `browser` is the portal's server
    socket (simple-websocket), `proxmox` the client socket to Proxmox (websockets)."""
    config = current_app.config
    idle_limit, longest = config["CONSOLE_IDLE_SECONDS"], config["CONSOLE_MAX_SECONDS"]
    stopped = threading.Event()

    def to_browser() -> None:
        try:
            for message in proxmox:
                browser.send(message)
        except Exception:  # noqa: BLE001 - either side closing ends the relay
            pass
        stopped.set()

    reason = "closed by Proxmox"
    opened = last_input = last_check = time.monotonic()
    try:
        if first_bytes:
            proxmox.send(first_bytes)
        threading.Thread(target=to_browser, daemon=True, name="console-relay").start()
        while not stopped.is_set():
            try:
                message = browser.receive(timeout=1)
            except BrowserClosed:
                reason = _why_the_browser_closed(browser)
                break
            now = time.monotonic()
            if message is not None:
                proxmox.send(message)
                if message != "2":  # a terminal's keep-alive is not someone at the keyboard
                    last_input = now
            if now - last_input > idle_limit:
                reason = "idle"
                break
            if now - opened > longest:
                reason = "open too long"
                break
            if now - last_check > CHECK_SECONDS:
                last_check = now
                if not still_signed_in(session_id):
                    reason = "session ended"
                    break
    except ProxmoxClosed:  # e.g. 1009: Proxmox found a message too big
        reason = "closed by Proxmox"
    close_quietly(browser, reason)  # first the person's side: Proxmox may take its time
    proxmox.close()
    return reason


def _why_the_browser_closed(browser) -> str:
    # simple-websocket closes a too big message's socket itself (1009), without a reason of
    # its own: the length it counted says so.
    limit = getattr(browser, "max_message_size", None)
    if limit and getattr(browser, "incoming_message_len", 0) > limit:
        return "a message over CONSOLE_MAX_MESSAGE_BYTES"
    return "closed in the browser"


def close_quietly(browser, reason: str = "", code: int = 1000, message: str = "") -> None:
    """Close the browser's socket, saying why (`message`, or "The console closed (reason)");
    it may have gone already."""
    try:
        browser.close(reason=code, message=message or f"The console closed ({reason}).")
    except Exception:  # noqa: BLE001 - closed already (e.g. by simple-websocket on a 1009)
        pass
    try:
        # The server ends the TCP connection after its close frame (RFC 6455), at once: the
        # development server would otherwise keep it open, and the browser would wait.
        browser.sock.shutdown(socket.SHUT_WR)
    except OSError:  # gone already
        pass

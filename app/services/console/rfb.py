"""The handshakes that open a console before relay.py carries it: RFB (VNC) for a VM's screen,
termproxy's ticket line for a terminal.

For a VM's screen the portal answers Proxmox's VNC authentication itself, with the password
vncproxy generated, and offers the browser an RFB session without authentication (the
browser has already proven who it is to the portal). So the VNC password never leaves the
portal: not to the page, not to a log.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

RFB_VERSION = b"RFB 003.008\n"
VNC_AUTH, NO_AUTH = 2, 1


class ConsoleError(Exception):
    """The console's handshake with Proxmox failed; the message says at which step (no
    secrets)."""


class BrowserError(ConsoleError):
    """The browser did not finish its side of the handshake: the client's doing, not a
    Proxmox failure (nothing to report)."""


class Stream:
    """Exact reads over a websocket's binary messages (RFB does not follow message bounds).
    `receive(timeout)` is the socket's own: websockets' `recv`, simple-websocket's `receive`."""

    def __init__(
        self, receive: Callable[[float], object], timeout: float,
        failure: type[ConsoleError] = ConsoleError,
    ):  # fmt: skip
        self.receive, self.timeout, self.buffer = receive, timeout, b""
        self.failure = failure  # what a read that gets no bytes raises

    def read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            message = self.receive(self.timeout)
            if not isinstance(message, bytes):
                raise self.failure("The other side sent no RFB bytes in time.")
            self.buffer += message
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def rest(self) -> bytes:
        """What was received beyond the last read."""
        data, self.buffer = self.buffer, b""
        return data


def vnc_response(challenge: bytes, password: str) -> bytes:
    """VNC authentication's answer: the challenge DES-encrypted with the password, whose
    bytes VNC uses bit-reversed as the key."""
    key = (password.encode() + b"\0" * 8)[:8]
    key = bytes(int(f"{byte:08b}"[::-1], 2) for byte in key)
    # cryptography (6 MB) loads when a console first needs it, not in every worker
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
    return encryptor.update(challenge) + encryptor.finalize()


def log_in_at_proxmox(server: Stream, send, password: str) -> None:
    """The RFB 3.8 handshake with Proxmox's VNC server, up to a successful VNC authentication.
    `send` writes to the server's websocket."""
    if not server.read(12).startswith(b"RFB 003."):
        raise ConsoleError("The VNC server does not speak RFB.")
    send(RFB_VERSION)
    count = server.read(1)[0]
    if count == 0:
        raise ConsoleError("The VNC server refused the session.")
    if VNC_AUTH not in server.read(count):
        raise ConsoleError("The VNC server does not offer VNC authentication.")
    send(bytes([VNC_AUTH]))
    send(vnc_response(server.read(16), password))
    if struct.unpack(">I", server.read(4))[0] != 0:
        raise ConsoleError("The VNC server refused the console's password.")


def greet_browser(browser: Stream, send) -> None:
    """The browser's side of the handshake: RFB 3.8 without authentication. `send` writes to
    the browser's websocket."""
    send(RFB_VERSION)
    if not browser.read(12).startswith(b"RFB 003."):
        raise BrowserError("The browser does not speak RFB.")
    send(bytes([1, NO_AUTH]))
    if browser.read(1)[0] != NO_AUTH:
        raise BrowserError("The browser chose a security type the portal did not offer.")
    send(struct.pack(">I", 0))


def open_vnc(browser, proxmox, password: str, timeout: float) -> bytes:
    """Both handshakes: the portal logs in at Proxmox, then lets the browser in. Returns the
    browser's bytes that followed (its ClientInit), for the relay to pass on."""
    server = Stream(proxmox.recv, timeout)
    log_in_at_proxmox(server, proxmox.send, password)
    client = Stream(browser.receive, timeout, BrowserError)
    greet_browser(client, browser.send)
    return client.rest()


def open_terminal(proxmox, ticket: dict, timeout: float) -> bytes:
    """termproxy's login: `user:ticket` on the socket, and Proxmox's `OK`. Returns what
    followed the OK, for the browser."""
    proxmox.send(f"{ticket['user']}:{ticket['ticket']}\n")
    server = Stream(proxmox.recv, timeout)
    if server.read(2) != b"OK":
        raise ConsoleError("Proxmox refused the terminal's login.")
    return server.rest()

"""A guest's console at Proxmox: a one-time ticket (vncproxy or termproxy), then the
vncwebsocket it opens, over TLS verified like every other call.

The ticket and the VNC password are secrets: they go into the websocket's URL and the VNC
handshake only, never into a message, a log line or a Sentry context.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any, cast
from urllib.parse import urlencode

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from app.exceptions import ProxmoxError
from app.proxmox.client import ProxmoxClient

# Proxmox's side of a console closed (the relay ends; it is not an error of the portal).
SocketClosed = ConnectionClosed
# The biggest message Proxmox may send (a VNC screen update comes in smaller pieces).
MAX_MESSAGE = 16 * 1024 * 1024
# websockets logs each handshake at DEBUG, request line (the ticket) and headers (the API
# token) included; the portal's console sockets log warnings only, whatever the log level.
SOCKET_LOG = logging.getLogger(__name__ + ".socket")
SOCKET_LOG.setLevel(logging.WARNING)


def vnc_ticket(client: ProxmoxClient, node: str, vmid: int) -> dict:
    """POST vncproxy for a VM's screen: `ticket`, `port` and a generated VNC `password`."""
    path = f"nodes/{node}/qemu/{int(vmid)}/vncproxy"
    return client.request("POST", path, websocket=1, **{"generate-password": 1})


def term_ticket(client: ProxmoxClient, node: str, guest_type: str, vmid: int) -> dict:
    """POST termproxy for a serial terminal: `ticket`, `port` and the `user` it is for."""
    return client.request("POST", f"nodes/{node}/{guest_type}/{int(vmid)}/termproxy")


def open_socket(
    client: ProxmoxClient, node: str, guest_type: str, vmid: int, ticket: dict
) -> ClientConnection:
    """Connect to the guest's vncwebsocket with a ticket (use it in a `with`, which closes
    it); a ProxmoxError if that fails."""
    s = client.settings
    path = f"/nodes/{node}/{guest_type}/{int(vmid)}/vncwebsocket"
    query = urlencode({"port": ticket["port"], "vncticket": ticket["ticket"]})
    context: dict[str, Any] = {"api_method": "GET", "api_path": path, "node": node,
                               "vmid": int(vmid)}  # fmt: skip
    try:
        tls = _tls_socket(client)
        return connect(
            # TLS is the socket's own (see RequestFirst), hence ws:// over it.
            f"ws://{s.host}:{s.port}/api2/json{path}?{query}",
            sock=cast(socket.socket, RequestFirst(tls)),  # a socket, as far as it asks
            additional_headers=client.websocket_headers(),
            subprotocols=["binary"],  # type: ignore[list-item]  # PVE's own choice
            open_timeout=s.timeout,
            close_timeout=2,
            compression=None,
            max_size=MAX_MESSAGE,
            ping_interval=None,
            proxy=None,
            logger=SOCKET_LOG,
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        raise ProxmoxError(
            f"Proxmox refused the console's websocket ({status}).",
            kind="api", status_code=status, **context,
        ) from None  # fmt: skip
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        raise ProxmoxError(
            f"Could not open the console's websocket at {s.address}: {type(exc).__name__}.",
            kind="unreachable", http_status=503, **context,
        ) from None  # fmt: skip


def _tls_socket(client: ProxmoxClient) -> socket.socket:
    """A TCP connection to pveproxy with TLS verified as every call is."""
    s = client.settings
    raw = socket.create_connection((s.host, s.port), timeout=s.timeout)
    try:
        return client.ssl_context().wrap_socket(raw, server_hostname=s.host)
    except BaseException:
        raw.close()
        raise


class RequestFirst:
    """A TLS socket whose reads wait until its first write (the websocket's handshake
    request) has been sent.

    websockets' threaded client starts reading (in its own thread) before it writes the
    request. Right after TLS 1.3's handshake the server's session tickets arrive, so that
    read sits inside OpenSSL while the request is written from the other thread — and an
    OpenSSL connection is not meant to be used from two threads at once. Seen here: now and
    then, under load, Proxmox's side (fakepve) never got the request and the console hung.
    Reading only after the request is out keeps the two apart where it matters; afterwards
    reads and writes go on as websockets does them.
    """

    def __init__(self, tls: socket.socket):
        self._tls, self._sent = tls, threading.Event()

    def sendall(self, data: bytes) -> None:
        try:
            self._tls.sendall(data)
        finally:
            self._sent.set()

    def recv(self, size: int) -> bytes:
        self._sent.wait()
        return self._tls.recv(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tls, name)

"""The console relay's Proxmox side, against fakepve's own RFB 3.8 server (not the demo's,
scripts/demo_vnc.py, which the other console tests use): the portal asks for a ticket, opens
the vncwebsocket over verified TLS, answers the VNC authentication itself and receives the
guest's framebuffer."""

import struct

import pytest

from app.exceptions import ProxmoxError
from app.proxmox import console, get_client
from app.services.console.rfb import ConsoleError, Stream, log_in_at_proxmox
from tests.conftest import TOKEN_NAME, TOKEN_USER, TOKEN_VALUE

# A 4x2 screen: the fake sends it in raw encoding, 32 bits per pixel, as blue, green, red, 0.
SCREEN = (4, 2, bytes(range(100, 124)))


@pytest.fixture
def pve(fakepve):
    """Plain fakepve, with its own VNC server (this directory's conftest gives the demo's)."""
    fakepve.apitokens[f"{TOKEN_USER}!{TOKEN_NAME}"] = TOKEN_VALUE
    return fakepve


@pytest.fixture
def vm(pve):
    guest = pve.add_vm(101, "desk", node="pve1", status="running", config={"cores": 1})
    guest.screen = SCREEN
    return guest


def framebuffer(socket, stream: Stream) -> tuple[bytes, bytes]:
    """As an RFB client after authentication: ServerInit's name, and the screen's pixels."""
    socket.send(b"\x01")  # ClientInit, shared
    width, height = struct.unpack(">HH", stream.read(4))
    stream.read(16)  # pixel format
    name = stream.read(struct.unpack(">I", stream.read(4))[0])
    socket.send(b"\x00" * 20)  # SetPixelFormat (the fake keeps its own)
    socket.send(struct.pack(">BxHi", 2, 1, 0))  # SetEncodings: raw
    socket.send(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))  # FramebufferUpdateRequest
    while (kind := stream.read(1)[0]) == 2:  # Bell
        pass
    assert kind == 0  # FramebufferUpdate
    assert struct.unpack(">xH", stream.read(3))[0] == 2  # the top and the bottom half
    pixels = b""
    for _ in range(2):
        _, _, w, h, _ = struct.unpack(">HHHHi", stream.read(12))
        pixels += stream.read(w * h * 4)
    return name, pixels


def test_the_portal_logs_in_to_the_vnc_server_and_receives_the_screen(app, vm):
    with app.app_context():
        client = get_client()
        ticket = console.vnc_ticket(client, "pve1", 101)
        with console.open_socket(client, "pve1", "qemu", 101, ticket) as socket:
            stream = Stream(socket.recv, timeout=5)
            log_in_at_proxmox(stream, socket.send, ticket["password"])
            name, pixels = framebuffer(socket, stream)
    assert name == b"desk"
    width, height, rgb = SCREEN
    expected = b"".join(
        bytes((rgb[i + 2], rgb[i + 1], rgb[i], 0)) for i in range(0, width * height * 3, 3)
    )
    assert pixels == expected


def test_a_wrong_password_is_refused(app, vm):
    with app.app_context():
        client = get_client()
        ticket = console.vnc_ticket(client, "pve1", 101)
        with console.open_socket(client, "pve1", "qemu", 101, ticket) as socket:
            with pytest.raises(ConsoleError, match="refused the console's password"):
                log_in_at_proxmox(Stream(socket.recv, timeout=5), socket.send, "not-it")


def test_a_ticket_opens_one_connection_only(app, vm):
    with app.app_context():
        client = get_client()
        ticket = console.vnc_ticket(client, "pve1", 101)
        with console.open_socket(client, "pve1", "qemu", 101, ticket):
            pass
        with pytest.raises(ProxmoxError) as refused:
            console.open_socket(client, "pve1", "qemu", 101, ticket)
    assert refused.value.status_code == 401
    assert ticket["ticket"] not in str(refused.value) and ticket["password"] not in str(
        refused.value.__dict__
    )

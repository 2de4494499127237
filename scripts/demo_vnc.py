"""The demo VMs' VNC server: fakepve's RFB 3.8 handshake, then a screen that answers the keyboard.

fakepve's own server sends one frame and ends the session at the client's next message. The
demo's console should feel alive, and the browser tests need keys, paste and Ctrl-Alt-Del to
show, so this one keeps the session: every key typed draws a white block on the screen's
bottom line (Backspace takes one away, Return clears the line), and Ctrl-Alt-Del clears the
line and counts a reboot, as a real guest would start over. The line lives on the VM, so it
is still there after a reconnect.
"""

import secrets
import struct

import aiohttp

from app.services.console.rfb import vnc_response

BLOCK, GAP, LINE_HEIGHT = 6, 2, 10  # one typed key's block, in pixels
BACKSPACE, RETURN, DELETE = 0xFF08, 0xFF0D, 0xFFFF
CONTROL, ALT = {0xFFE3, 0xFFE4}, {0xFFE9, 0xFFEA}
# Client message type -> the length of the rest of a fixed-size message.
FIXED = {0: 19, 3: 9, 4: 7, 5: 5}


class Screen:
    """A VM's screen: its colour blocks (`vm.screen`) plus the line of typed keys."""

    def __init__(self, vm) -> None:
        if not hasattr(vm, "screen"):  # a guest the portal made, e.g. a clone
            vm.screen = demo_screen(vm.vmid)
        if not hasattr(vm, "typed"):
            vm.typed, vm.reboots = 0, 0
        self.vm = vm
        self.width, self.height, self.rgb = vm.screen
        self.held: set[int] = set()

    def key(self, down: bool, keysym: int) -> bool:
        """Take a key event; True if the screen changed."""
        if not down:
            self.held.discard(keysym)
            return False
        self.held.add(keysym)
        before = self.vm.typed
        if keysym == DELETE and self.held & CONTROL and self.held & ALT:
            self.vm.typed, self.vm.reboots = 0, self.vm.reboots + 1
            return True
        if keysym == BACKSPACE:
            self.vm.typed = max(0, before - 1)
        elif keysym == RETURN:
            self.vm.typed = 0
        elif 0x20 <= keysym <= 0x7E and not self.held & CONTROL:
            self.vm.typed = min(before + 1, self.width // (BLOCK + GAP))
        return self.vm.typed != before

    def pixel(self, x: int, y: int) -> bytes:
        top = self.height - LINE_HEIGHT - 4
        if top <= y < top + LINE_HEIGHT and x % (BLOCK + GAP) < BLOCK:
            if x // (BLOCK + GAP) < self.vm.typed:
                return b"\xff\xff\xff\x00"
        i = (y * self.width + x) * 3
        red, green, blue = self.rgb[i : i + 3]
        return bytes((blue, green, red, 0))  # as fakepve sends its screens

    def update(self) -> bytes:
        """A FramebufferUpdate of the whole screen, raw, as two rectangles (like fakepve)."""
        half = self.height // 2
        message = b"\x00\x00" + struct.pack(">H", 2)
        for top, rows in ((0, half), (half, self.height - half)):
            message += struct.pack(">HHHHi", 0, top, self.width, rows, 0)
            message += b"".join(
                self.pixel(x, y) for y in range(top, top + rows) for x in range(self.width)
            )
        return message


async def serve(ws, vm, secret: str) -> None:
    """One VNC session on the websocket `ws`: authenticate with `secret`, then serve `vm`."""
    stream = Reader(ws)
    await ws.send_bytes(b"RFB 003.008\n")
    if await stream.read(12) != b"RFB 003.008\n":
        return
    await ws.send_bytes(b"\x01\x02")  # one security type: VNC authentication
    if await stream.read(1) != b"\x02":
        return
    challenge = secrets.token_bytes(16)
    await ws.send_bytes(challenge)
    # The portal's own DES; tests/console/test_relay.py checks it against fakepve's server.
    if await stream.read(16) != vnc_response(challenge, secret):
        await ws.send_bytes(struct.pack(">I", 1))
        return
    await ws.send_bytes(struct.pack(">I", 0))
    await stream.read(1)  # ClientInit
    screen, name = Screen(vm), vm.name.encode()
    await ws.send_bytes(
        struct.pack(
            ">HHBBBBHHHBBBxxxI",
            screen.width,
            screen.height,
            16,
            16,
            0,
            1,
            31,
            63,
            31,
            11,
            5,
            0,
            len(name),
        )
        + name  # fmt: skip
    )
    wanted = changed = False
    while True:
        kind = (await stream.read(1))[0]
        if kind in FIXED:
            body = await stream.read(FIXED[kind])
        elif kind == 2:  # SetEncodings
            body = await stream.read(3)
            await stream.read(4 * struct.unpack(">xH", body)[0])
        elif kind == 6:  # ClientCutText: the guest has no clipboard; paste arrives as keys
            await stream.read(struct.unpack(">xxxI", await stream.read(7))[0])
        else:
            return
        if kind == 3:  # FramebufferUpdateRequest: a full one now, an incremental one on change
            wanted, changed = True, changed or body[0] == 0
        if kind == 4:
            down, keysym = struct.unpack(">BxxI", body)
            changed = screen.key(bool(down), keysym) or changed
        if wanted and changed:
            await ws.send_bytes(screen.update())
            wanted = changed = False


def demo_screen(vmid: int, width: int = 320, height: int = 200) -> tuple[int, int, bytes]:
    """A VM's screen: four blocks of colour, one per quarter, from its VMID (each pixel as
    red, green, blue; sent as blue, green, red, 0)."""
    quarters = [((vmid * 37 + 60 * i) % 256, (vmid * 11 + 90 * i) % 256, 40 * i + 20)
                for i in range(4)]  # fmt: skip
    rows = []
    for y in range(height):
        left, right = quarters[0:2] if y < height // 2 else quarters[2:4]
        rows.append(bytes(left) * (width // 2) + bytes(right) * (width - width // 2))
    return width, height, b"".join(rows)


class Reader:
    """Bytes from a websocket's binary frames, read in the sizes the protocol asks for."""

    def __init__(self, ws) -> None:
        self.ws, self.buffer = ws, b""

    async def read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            frame = await self.ws.receive()
            if frame.type != aiohttp.WSMsgType.BINARY:
                raise ConnectionError("the client went away")
            self.buffer += frame.data
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

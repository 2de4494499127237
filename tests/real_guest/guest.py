"""A real Debian 13 VM under QEMU (TCG: this machine's KVM cannot run nested guests), built
from Debian's packages, with the real qemu-guest-agent on a unix socket.

The disk image is built once with debootstrap and cached in .real-guest/ (ignored by git);
each boot works on a copy-on-write overlay, so the cached image stays as built.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("REAL_GUEST_CACHE", ROOT / ".real-guest"))
MIRROR = os.environ.get("REAL_GUEST_MIRROR", "http://deb.debian.org/debian")
PACKAGES = (
    "linux-image-amd64,systemd-sysv,udev,qemu-guest-agent,cloud-init,isc-dhcp-client,ifupdown,"
    "openssh-server,e2fsprogs,docker.io,docker-cli,docker-compose,curl,ca-certificates,"
    "busybox-static"
)  # what a genericcloud VM with the portal's base template additions has, and busybox for the
#  tests' stand-in app images (no image registry is reachable here)


def phase(name: str, started: float) -> None:
    print(f"[real guest] {name}: {time.monotonic() - started:.0f} s", flush=True)


def build_image() -> Path:
    """The cached root disk (raw ext4), built on first use (~3 minutes)."""
    disk = CACHE / f"disk-{hashlib.sha256(PACKAGES.encode()).hexdigest()[:8]}.img"
    if disk.exists():
        return disk
    started = time.monotonic()
    root = CACHE / "root"
    CACHE.mkdir(parents=True, exist_ok=True)
    if not list((root / "boot").glob("vmlinuz-*")):
        shutil.rmtree(root, ignore_errors=True)
        # It exits 1: python3-cryptography stays unconfigured (a virtual package it misses),
        # which the apt-get below finishes (and adds what an older cached root lacks).
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", "trixie", str(root),
             MIRROR], check=False, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    subprocess.run(
        ["chroot", str(root), "apt-get", "install", "-y", "-q", "python3-cffi-backend",
         *PACKAGES.split(",")],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    unconfigured = subprocess.run(
        ["chroot", str(root), "dpkg", "--audit"], capture_output=True, text=True, check=False
    ).stdout  # fmt: skip
    if unconfigured.strip():
        raise RuntimeError(f"The image's packages are not all configured:\n{unconfigured}")
    (root / "etc/fstab").write_text("/dev/vda / ext4 defaults 0 1\n")
    partial = disk.with_suffix(".partial")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(root), str(partial), "6G"], check=True)
    partial.rename(disk)
    phase("disk image built", started)
    return disk


def _boot_file(prefix: str) -> Path:
    return max((CACHE / "root" / "boot").glob(f"{prefix}-*"))


class Guest:
    """One boot of the VM: a fresh overlay on the cached disk, the seed ISO as its CD-ROM,
    the agent on `agent.sock`, guest port 80 forwarded to 127.0.0.1:`port`, and each of
    `forwards` ((host address, host port, guest port)) likewise."""

    def __init__(
        self, workdir: Path, seed_iso: bytes, port: int,
        forwards: tuple[tuple[str, int, int], ...] = (),
    ):  # fmt: skip
        self.workdir, self.port = workdir, port
        self.lock = threading.Lock()  # the agent's socket takes one client at a time
        hostfwd = "".join(f",hostfwd=tcp:{a}:{p}-:{g}" for a, p, g in forwards)
        self.socket_path = workdir / "agent.sock"
        overlay = workdir / "overlay.qcow2"
        subprocess.run(
            ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(build_image()),
             str(overlay)], check=True,
        )  # fmt: skip
        seed = workdir / "seed.iso"
        seed.write_bytes(seed_iso)
        self.console = (workdir / "console.log").open("wb")
        self.process = subprocess.Popen(
            [
                "qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "max", "-m", "1536",
                "-smp", "2", "-kernel", str(_boot_file("vmlinuz")),
                "-initrd", str(_boot_file("initrd.img")),
                "-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0",
                "-drive", f"file={overlay},if=virtio,format=qcow2",
                "-drive", f"file={seed},media=cdrom,readonly=on",
                "-chardev", f"socket,path={self.socket_path},server=on,wait=off,id=qga0",
                "-device", "virtio-serial",
                "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
                "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:80{hostfwd}",
                "-device", "virtio-net-pci,netdev=n0", "-display", "none", "-serial", "stdio",
            ],
            stdout=self.console, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def agent(self, command: str, arguments: dict | None = None, timeout: float = 30) -> dict:
        """One QGA command over the socket: guest-sync-delimited first, then the command."""
        with self.lock, socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(timeout)
            sock.connect(str(self.socket_path))
            token = int(time.time() * 1000) % 2**31
            sock.sendall(json.dumps({"execute": "guest-sync-delimited",
                                     "arguments": {"id": token}}).encode())  # fmt: skip
            reader = sock.makefile("rb")
            while reader.read(1) != b"\xff":  # the agent marks where its answers start
                pass
            assert json.loads(reader.readline())["return"] == token
            message = {"execute": command, **({"arguments": arguments} if arguments else {})}
            sock.sendall(json.dumps(message).encode())
            answer = json.loads(reader.readline())
        if "error" in answer:
            raise RuntimeError(f"{command}: {answer['error']}")
        return answer["return"]

    def wait_for_agent(self, timeout: float = 300) -> float:
        """Seconds until the agent answers a ping."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"QEMU stopped; see {self.console.name}")
            try:
                self.agent("guest-ping", timeout=5)
                return time.monotonic() - started
            except (OSError, ValueError, RuntimeError, AssertionError):
                time.sleep(2)
        raise TimeoutError(f"no guest agent within {timeout} s; see {self.console.name}")

    def run(self, argv: list[str], timeout: float = 600) -> tuple[int, str, str]:
        """Run argv in the guest (guest-exec, as PVE's agent/exec does): exit code, out, err."""
        pid = self.agent("guest-exec", {"path": argv[0], "arg": argv[1:], "capture-output": True})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.agent("guest-exec-status", {"pid": pid["pid"]})
            if status.get("exited"):
                out, err = (_decoded(status, key) for key in ("out-data", "err-data"))
                return int(status.get("exitcode", -1)), out, err
            time.sleep(1)
        raise TimeoutError(f"{argv} did not end within {timeout} s")

    def stop(self) -> None:
        """Power the VM off (the overlay goes with the test's folder)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.console.close()


def _decoded(status: dict, key: str) -> str:
    return base64.b64decode(status.get(key, "")).decode(errors="replace")

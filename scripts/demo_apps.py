"""What the demo's guests do when the portal deploys an app into them (used by DemoPve).

A real VM runs `docker compose up` and its app answers on its port; a real OCI container runs
its image. The demo's guests run nothing, so here:
- the guest agent keeps the files the portal writes (file-read gives them back);
- `docker compose up` starts a small responder on the guest's address (127.77.x.y) for each
  port the Compose file publishes (1024 and up: a normal user can bind those), serving a page
  that names the app; `docker compose ps` reports the services running (healthy, when they
  have a healthcheck);
- the portal's health probe (python3 inside the guest) is carried out for real, over HTTP
  or TCP to the guest's address;
- an OCI container answers on its app's health port once it has its address.
So the deploy's health check is real HTTP, and the link on the app page opens a page.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import math
from pathlib import Path

import yaml
from aiohttp import ClientSession, ClientTimeout, web
from fakepve.model import PveError

CATALOG = Path(__file__).resolve().parent.parent / "catalog"
# What an OCI image brings, as Proxmox maps it into the container's config.
IMAGE_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\0LANG=C.UTF-8"


class Disk:
    """What the portal put on a demo VM's disk: files, and whether its Compose app was started
    (its services then start again on every boot, as `restart: unless-stopped` has it)."""

    def __init__(
        self, files: dict[str, str] | None = None, compose_up: bool = False, pulled: bool = False
    ):
        self.files = files if files is not None else {}
        self.compose_up = compose_up
        self.pulled = pulled  # `docker compose pull` ran: an update

    def copy(self) -> Disk:
        return Disk(dict(self.files), self.compose_up, self.pulled)


def disk_of(vm) -> Disk:
    """The demo disk of a VM (made on first use)."""
    if getattr(vm, "demo_disk", None) is None:
        vm.demo_disk = Disk()
    return vm.demo_disk


def catalog_app(tags: str) -> dict:
    """The catalog app.yaml of a guest the portal deployed (its tags name the app), or {}."""
    for tag in str(tags or "").split(";"):
        path = CATALOG / tag / "app.yaml"
        if tag and path.is_file():
            return yaml.safe_load(path.read_text()) or {}
    return {}


def published_ports(compose_text: str) -> dict[str, list[int]]:
    """{service: [host ports]} of a Compose file (the ports a VM's app answers on)."""
    services = (yaml.safe_load(compose_text or "") or {}).get("services") or {}
    found: dict[str, list[int]] = {}
    for name, service in services.items():
        for port in service.get("ports") or []:
            text = str(port.get("published", "") if isinstance(port, dict) else port)
            parts = text.split("/")[0].split(":")
            if len(parts) >= 2 and parts[-2].isdigit():
                found.setdefault(name, []).append(int(parts[-2]))
    return found


DEMO_IMAGE = "debian-13-genericcloud-amd64.qcow2"


async def serve_image_sums(host: str, port: int) -> web.AppRunner:
    """cloud.debian.org's SHA512SUMS for the demo's base template (its fake image's sum), on
    plain HTTP on loopback: the demo's fake downloads nothing, and nothing leaves the machine."""
    sums = f"{hashlib.sha512(b'the demo image').hexdigest()}  {DEMO_IMAGE}\n"

    async def answer(request: web.Request) -> web.Response:
        return web.Response(text=sums)

    application = web.Application()
    application.router.add_get("/SHA512SUMS", answer)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


LOAD = ((1.2, 0.6), (1.1, 0.4), (0.9, 0.2))  # the 1-, 5- and 15-minute averages' swing
CPU_MODELS = ("AMD EPYC 7313P 16-Core Processor", "Intel(R) Xeon(R) E-2388G CPU @ 3.20GHz")


def node_status(node: str, version: str, now: float) -> dict:
    """GET /nodes/{node}/status as a real node answers it, steady per node."""
    number = sum(node.encode())
    wave = math.sin(now / 600 + number)
    gib = 2**30
    total_mem, root_total = (64 + 32 * (number % 2)) * gib, 94 * gib
    kernel = "6.14.11-4-pve"
    return {
        "pveversion": f"pve-manager/{version}/b1f2c0b5c3a2e1d4", "kversion":
            f"Linux {kernel} #1 SMP PREEMPT_DYNAMIC PMX {kernel} (2025-11-18T09:12Z)",
        "current-kernel": {"sysname": "Linux", "release": kernel, "machine": "x86_64",
                           "version": "#1 SMP PREEMPT_DYNAMIC PMX 6.14.11-4"},
        "cpuinfo": {"model": CPU_MODELS[number % 2], "cpus": 16, "cores": 8, "sockets": 1,
                    "mhz": "3000.000", "hvm": "1", "user_hz": 100, "flags": "fpu vme sse2 avx2"},
        "loadavg": [f"{base + spread * wave:.2f}" for base, spread in LOAD],
        "cpu": round(0.12 + 0.05 * wave, 3), "wait": 0.002, "idle": 0,
        "memory": {"total": total_mem, "used": int(total_mem * 0.41), "free": int(total_mem * 0.59),
                   "available": int(total_mem * 0.57)},
        "swap": {"total": 8 * gib, "used": 0, "free": 8 * gib},
        "rootfs": {"total": root_total, "used": int(root_total * 0.23),
                   "avail": int(root_total * 0.77), "free": int(root_total * 0.77)},
        "ksm": {"shared": 0}, "uptime": 86400 * (3 + number % 5),
        "boot-info": {"mode": "efi", "secureboot": 0},
    }  # fmt: skip


def with_memory_use(usage: dict, guest) -> dict:
    """A running guest's usage with the memory it uses (a steady share of what it has)."""
    if guest.status == "running" and not guest.stats.get("mem") and usage.get("maxmem"):
        usage["mem"] = int(usage["maxmem"] * (0.22 + (guest.vmid % 9) / 30))
    return usage


def imported_disks(pve, values: dict) -> dict:
    """QEMU create parameters with each `STORAGE:0,import-from=VOLUME` disk made the size of
    the image it imports (fakepve allocates disks but imports nothing); PVE's error when the
    image is not there."""
    changed = dict(values)
    for key, value in values.items():
        if "import-from=" not in str(value):
            continue
        parts = str(value).split(",")
        source = next(p.split("=", 1)[1] for p in parts if p.startswith("import-from="))
        storage, _, name = source.partition(":")
        volume = pve.storages.get(storage, {}).get("volumes", {}).get(name)
        if volume is None:
            raise PveError(500, f"unable to create VM - volume '{source}' does not exist")
        gib = max(1, -(-int(volume.get("size", 0)) // 2**30))
        target = parts[0].split(":")[0]
        kept = [p for p in parts[1:] if not p.startswith("import-from=")]
        changed[key] = ",".join([f"{target}:{gib}", *kept])
    return changed


class Responders:
    """Tiny web servers standing in for apps: one per (address, port), in the fake's loop."""

    def __init__(self, pve):
        self.pve = pve
        self.runners: dict[tuple[str, int], web.AppRunner] = {}

    async def serve(self, host: str, port: int, vmid: int) -> None:
        """Answer on host:port for guest vmid (once; a later call finds it running)."""
        if port < 1024 or (host, port) in self.runners:
            return

        async def page(request: web.Request) -> web.Response:
            return self._page(request, vmid, port)

        application = web.Application()
        application.router.add_route("*", "/{path:.*}", page)
        runner = web.AppRunner(application, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            print(f"demo: cannot answer on {host}:{port} for guest {vmid}: {error}", flush=True)
            await runner.cleanup()
            return
        self.runners[(host, port)] = runner

    async def close(self) -> None:
        for runner in self.runners.values():
            await runner.cleanup()
        self.runners.clear()

    def _page(self, request: web.Request, vmid: int, port: int) -> web.Response:
        guest = next((g for g in [*self.pve.vms, *self.pve.cts] if g.vmid == vmid), None)
        if guest is None or guest.status != "running":
            return web.Response(status=503, text="This demo guest is not running.")
        name = html.escape(str(catalog_app(guest.config.get("tags")).get("name") or guest.name))
        body = (
            f"<!doctype html><html lang=en><meta charset=utf-8><title>{name}</title>"
            f"<h1>{name}</h1><p>This is the demo's stand-in for {name} in guest "
            f"{html.escape(guest.name)} ({vmid}), answering on port {port}. On a real cluster "
            f"the app itself answers here.</p><p>Path asked for: "
            f"<code>{html.escape(request.path)}</code></p></html>"
        )
        return web.Response(text=body, content_type="text/html")


async def exec_answer(pve, vm, argv: list[str], address: str) -> dict | None:
    """The demo's result of a command the portal ran in VM vm (None: fakepve's default)."""
    files = (vm.agent or {}).get("files") or {}
    if argv[:2] == ["/usr/bin/docker", "compose"]:
        compose_text = files.get(argv[argv.index("--file") + 1], "") if "--file" in argv else ""
        ports = published_ports(compose_text)
        if "up" in argv:
            for port in sorted({p for found in ports.values() for p in found}):
                await pve.responders.serve(address, port, vm.vmid)
            disk_of(vm).compose_up = True
            return {"exitcode": 0, "err-data": " Container app-1  Started\n"}
        if "pull" in argv:
            disk_of(vm).pulled = True
            return {"exitcode": 0, "err-data": " Pulled\n"}
        if "ps" in argv:
            if disk_of(vm).compose_up:  # started again at boot (a clone, a reboot)
                for port in sorted({p for found in ports.values() for p in found}):
                    await pve.responders.serve(address, port, vm.vmid)
            # An app named ...-broken is unhealthy once updated: the demo's rollback.
            broken = vm.name.endswith("-broken") and disk_of(vm).pulled
            return {"exitcode": 0, "out-data": _ps(compose_text, disk_of(vm).compose_up, broken)}
        return {"exitcode": 0, "out-data": "demo: the demo's apps write no logs\n"}
    if argv[:2] == ["/usr/bin/python3", "-c"] and len(argv) >= 6:
        port, path = int(argv[4]), argv[5]
        return await probe(address, port, path)
    return None


def _ps(compose_text: str, up: bool, broken: bool = False) -> str:
    services = (yaml.safe_load(compose_text or "") or {}).get("services") or {}
    rows = [
        {"Service": name, "State": "running",
         "Health": "unhealthy" if broken else "healthy" if "healthcheck" in service else ""}
        for name, service in services.items()
    ] if up else []  # fmt: skip
    return "".join(json.dumps(row) + "\n" for row in rows)


async def probe(host: str, port: int, path: str) -> dict:
    """What the portal's probe would say inside the guest: exit 0 when the port answers."""
    try:
        if not path:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
            writer.close()
            return {"exitcode": 0}
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            async with session.get(f"http://{host}:{port}{path}") as response:
                if response.status < 500:
                    return {"exitcode": 0}
                return {"exitcode": 1, "err-data": f"HTTP {response.status}\n"}
    except (TimeoutError, OSError) as error:
        return {"exitcode": 1, "err-data": f"ConnectionRefusedError: {error}\n"}

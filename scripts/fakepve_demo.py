"""Serve a fake Proxmox VE (fakepve) with the demo cluster and an API token for the portal.

A dev/demo tool, run as its own process by scripts/demo.sh and the end-to-end tests; the
portal (app/) never imports fakepve. fakepve's own CLI cannot add API tokens or nodes, and
the demo wants charts and backups to show (see DemoPve), hence this script.

    python scripts/fakepve_demo.py demo/cluster.json --host 127.0.0.2 --port 8006 \
        --pki-dir instance/demo --token-id root@pam!portal   (token secret in FAKEPVE_TOKEN_VALUE)
        [--read-only]   (the token holds PVEAuditor only; root@pam holds everything in fakepve)
"""

import argparse
import asyncio
import json
import math
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script, too

from fakepve import FakePve
from fakepve.certs import make_cert
from fakepve.lxc import format_size, parse_size
from fakepve.model import PveError
from fakepve.server import FORMATS, USER

from scripts import demo_apps, demo_vnc, demo_volumes

# PVE 9's built-in PVEAuditor role: what `--read-only` grants the portal's token.
AUDITOR = ("Datastore.Audit", "Mapping.Audit", "Pool.Audit", "SDN.Audit", "Sys.Audit",
           "VM.Audit", "VM.GuestAgent.Audit")  # fmt: skip
# PVE's rrddata resolution per timeframe: (seconds between samples, samples).
TIMEFRAMES = {"hour": (60, 70), "day": (1800, 48), "week": (10800, 56)}


class DemoPve(FakePve):
    """fakepve plus what the demo needs to look alive: usage history, backup files, and
    guests that boot.

    fakepve answers rrddata and vzdump from the schema alone (an empty sample; a task that
    writes nothing). These keep its parameter checks and add plausible CPU, memory, network
    and disk series, and a backup file in the storage once a backup task ends.

    Booting: fakepve's guest agent never runs unless told, and a container on DHCP gets no
    address. Here a running VM whose config has `agent: 1` runs its agent, and a running guest
    on DHCP gets a lease, 127.77.x.y from its VMID (loopback, so nothing leaves the machine).
    Both come boot_secs after the start (scaled by time_scale, so at once in the tests). Set
    `guest_agents = False` to model templates without the agent.
    """

    guest_agents = True
    boot_secs = 10  # PVE seconds from start until the agent answers and DHCP has leased

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.version, self.release_version = "9.1.2", "9.1"  # OCI containers came with 9.1
        self.responders = demo_apps.Responders(self)
        self.oci_images: dict[str, str] = {}  # volid -> the reference it was pulled from
        self.backup_jobs: dict[str, dict] = {}  # /cluster/backup

    def booted(self, guest) -> bool:
        """True once a running guest has had boot_secs (scaled by time_scale) to boot."""
        up = time.time() - (guest.started_at or 0)
        return guest.status == "running" and up >= self.boot_secs * self.time_scale

    async def _agent_call(self, match, values):
        vm = self.find(values["node"], values["vmid"])
        if self.guest_agents and vm.agent is None and self.booted(vm):
            if str(vm.config.get("agent", "0")).split(",")[0] in ("1", "enabled=1"):
                # Files written into the guest stay on its disk: a clone has them too.
                vm.agent = {"interfaces": agent_interfaces(vm.vmid, vm.config),
                            "files": demo_apps.disk_of(vm).files}  # fmt: skip
        answer = await super()._agent_call(match, values)
        command = match.template.rsplit("/", 1)[1]
        if command == "file-write":  # kept, so that file-read gives it back
            vm.agent.setdefault("files", {})[values["file"]] = values["content"]
        if command == "exec-status":
            argv = vm.agent_execs.get(values["pid"], [])
            scripted = " ".join(argv) in (vm.agent.get("exec") or {})  # a test's answer wins
            demo = None if scripted else await demo_apps.exec_answer(
                self, vm, argv, lease_address(vm.vmid)
            )  # fmt: skip
            answer = {**answer, **(demo or {})}
        return answer

    async def stop(self):
        """Stop listening, the apps' stand-ins too."""
        await self.responders.close()
        await super().stop()

    async def _qm_clone(self, values, user):
        """A clone's disk holds what the source's held: its app's files, its app set to run."""
        answer = await super()._qm_clone(values, user)
        source = next(vm for vm in self.vms if vm.vmid == int(values["vmid"]))
        copy = next(vm for vm in self.vms if vm.vmid == int(values["newid"]))
        copy.demo_disk = demo_apps.disk_of(source).copy()
        return answer

    async def _status_current(self, request):
        """A VM booted from the base template's seed ISO installs its packages and powers
        itself off (a while after its start: three boots' time)."""
        found = [vm for vm in self.vms if str(vm.vmid) == request.match_info.get("vmid")]
        for vm in found:
            seeded = "portal-base-seed-" in str(vm.config.get("ide2", ""))
            up = time.time() - (vm.started_at or 0)
            if seeded and vm.status == "running" and up >= 3 * self.boot_secs * self.time_scale:
                vm.status = vm.qmpstatus = "stopped"
        return await super()._status_current(request)

    async def _qm_snapshot(self, values, user):
        """A snapshot holds the disk as it is: its app's files too (demo_apps.Disk)."""
        answer = await super()._qm_snapshot(values, user)
        vm = self.find(values["node"], values["vmid"])
        vm.demo_snapshots = {**getattr(vm, "demo_snapshots", {}),
                             values["snapname"]: demo_apps.disk_of(vm).copy()}  # fmt: skip
        return answer

    async def _qm_rollback(self, values, user):
        """Rolling back brings the disk's files back, and stops the VM (its agent with it)."""
        vm = self.find(values["node"], values["vmid"])
        saved = getattr(vm, "demo_snapshots", {}).get(values["snapname"])
        answer = await super()._qm_rollback(values, user)
        if saved is not None:
            vm.demo_disk, vm.agent = saved.copy(), None
        return answer

    async def _oci_pull(self, values, user):
        """oci-registry-pull (PVE 9.1): the image as `<filename>.tar` in the storage, as
        PVE's skopeo writes it; PVE refuses to overwrite an existing file."""
        storage, node = values["storage"], values["node"]
        self.require(user, f"/storage/{storage}", "Datastore.AllocateTemplate")
        self.require(user, f"/nodes/{node}", "Sys.AccessNetwork")
        reference = values["reference"]
        stem = values.get("filename") or reference.rsplit("/", 1)[-1].replace(":", "_")
        volname = f"vztmpl/{stem}.tar"
        if volname in self.storages.get(storage, {}).get("volumes", {}):
            raise PveError(500, f"refusing to override existing file '{stem}.tar'")

        async def body():
            await self.pause(5)
            self.store_file(storage, f"{stem}.tar", 80 * 2**20, "vztmpl")
            self.oci_images[f"{storage}:{volname}"] = reference
            return f"pulled {reference}"

        log = [f"pulling {reference} to {storage}:{volname}"]
        return await self.task(node, "ocipull", storage, user, body, lock=False, log=log)

    async def _move_volume(self, values, user):
        return await demo_volumes.move_volume(self, values, user)

    async def _lxc_create(self, user, v):
        """A container from a pulled OCI image gets what PVE maps from the image: its
        environment, entrypoint and console mode."""
        if v.get("ostemplate") in self.oci_images:
            v = {
                **v,
                "env": demo_apps.IMAGE_ENV,
                "entrypoint": "/entrypoint.sh",
                "cmode": "console",
            }
        return await super()._lxc_create(user, v)

    async def _lxc_interfaces(self, user, v):
        interfaces = await super()._lxc_interfaces(user, v)
        ct = self._find_ct(v["node"], v["vmid"])
        for item in interfaces or []:
            if item["name"] != "lo" and not item["ip-addresses"] and on_dhcp(ct.config):
                if not self.booted(ct):
                    continue
                address = lease_address(ct.vmid)
                await self._answer_as_app(ct, address)
                item["inet"] = f"{address}/8"
                item["ip-addresses"] = [
                    {"ip-address-type": "inet", "ip-address": address, "prefix": "8"}
                ]
        return interfaces

    async def _answer_as_app(self, ct, address: str) -> None:
        """An app's OCI container answers on its health port once it has its address (an
        app named ...-broken not once updated: the demo's rollback)."""
        updated = getattr(ct, "demo_data_from", None) is not None
        if str(ct.config.get("cmode")) == "console" and not (
            updated and str(ct.config.get("hostname", "")).endswith("-broken")
        ):
            port = (demo_apps.catalog_app(ct.config.get("tags")).get("health") or {}).get("port")
            if port:
                await self.responders.serve(address, int(port), ct.vmid)

    def _build_app(self):
        """fakepve's app, plus a serial terminal for containers: fakepve's termproxy and
        vncwebsocket serve VMs only, and a container's console is its terminal."""
        app = super()._build_app()
        for prefix in FORMATS:
            base = prefix + "/nodes/{node}/lxc/{vmid}"
            app.router.add_post(base + "/termproxy", self._termproxy)
            app.router.add_get(base + "/vncwebsocket", self._vncwebsocket)
        return app

    async def _rfb(self, ws, vm, secret):
        """A VM's VNC session that goes on after the first frame (scripts/demo_vnc.py)."""
        await demo_vnc.serve(ws, vm, secret)

    def _vm(self, request, priv=None):
        """The guest of a console request: a container's too (see _build_app)."""
        if "/lxc/" not in request.path:
            return super()._vm(request, priv)
        ct = self._find_ct(request.match_info["node"], int(request.match_info["vmid"]))
        if priv:
            self.require(request[USER], f"/vms/{ct.vmid}", priv)
        return ct

    def _routes_demo(self):
        return [
            ("GET", "/nodes/{node}/qemu/{vmid}/rrddata", self._rrddata),
            ("GET", "/nodes/{node}/lxc/{vmid}/rrddata", self._rrddata),
            ("POST", "/nodes/{node}/vzdump", self._vzdump),
            ("PUT", "/nodes/{node}/qemu/{vmid}/resize", self._qm_resize),
            ("POST", "/nodes/{node}/storage/{storage}/oci-registry-pull", self._oci_pull),
            ("POST", "/nodes/{node}/lxc/{vmid}/move_volume", self._move_volume),
            ("GET", "/nodes/{node}/status", self._node_status),
            ("GET", "/cluster/backup", self._backup_jobs),
            ("POST", "/cluster/backup", self._backup_job_create),
            ("GET", "/cluster/backup/{id}", self._backup_job),
            ("PUT", "/cluster/backup/{id}", self._backup_job_update),
            ("DELETE", "/cluster/backup/{id}", self._backup_job_delete),
        ]

    # Backup jobs (fakepve answers /cluster/backup from its schema and keeps nothing).
    async def _backup_jobs(self, values, user):
        return list(self.backup_jobs.values())

    async def _backup_job(self, values, user):
        return self._existing_job(values["id"])

    async def _backup_job_create(self, values, user):
        self.require(user, "/", "Sys.Modify")
        job_id = values["id"]
        if job_id in self.backup_jobs:
            raise PveError(500, f"Job '{job_id}' already exists")
        self.backup_jobs[job_id] = {"type": "vzdump", "enabled": 1, **values}
        return None

    async def _backup_job_update(self, values, user):
        self.require(user, "/", "Sys.Modify")
        self._existing_job(values["id"]).update(values)
        return None

    async def _backup_job_delete(self, values, user):
        self.require(user, "/", "Sys.Modify")
        self._existing_job(values["id"])
        del self.backup_jobs[values["id"]]
        return None

    def _existing_job(self, job_id: str) -> dict:
        if job_id not in self.backup_jobs:
            raise PveError(500, f"job '{job_id}' does not exist")
        return self.backup_jobs[job_id]

    async def _node_status(self, values, user):
        """What a real node reports (fakepve answers its schema's placeholders)."""
        return demo_apps.node_status(values["node"], self.version, time.time())

    def _vm_usage(self, vm):
        """A running VM uses some of its memory (fakepve: a flat 64 MiB)."""
        return demo_apps.with_memory_use(super()._vm_usage(vm), vm)

    def _status(self, ct):
        """A running container uses some of its memory (fakepve: none)."""
        return demo_apps.with_memory_use(super()._status(ct), ct)

    async def _qm_create(self, v, user):
        """QEMU create (a disk `import-from` an image in an import storage, as PVE 8.4+ does),
        and restore from an archive this fake's vzdump wrote (over a stopped VM with `force`,
        or as a new one); fakepve itself refuses to restore QEMU archives."""
        if not v.get("archive"):
            return await super()._qm_create(demo_apps.imported_disks(self, v), user)
        node, vmid = v["node"], int(v["vmid"])
        storage, _, volname = str(v["archive"]).partition(":")
        archive = self.storages.get(storage, {}).get("volumes", {}).get(volname)
        if archive is None or "config" not in archive:
            raise PveError(500, f"unable to restore VM {vmid} - archive {v['archive']} not found")
        existing = next((vm for vm in self.vms if vm.vmid == vmid), None)
        if existing is not None and not v.get("force"):
            raise PveError(500, f"unable to restore VM {vmid} - VM {vmid} already exists")
        if existing is not None and existing.status != "stopped":
            raise PveError(500, f"unable to restore VM {vmid} - VM is running")
        old = archive.get("vmid")
        config = {
            k: str(value).replace(f"-{old}-", f"-{vmid}-") for k, value in archive["config"].items()
        }

        async def body():
            await self.pause(5)
            if existing is not None:
                existing.config = dict(config)
            else:
                self.add_vm(vmid, archive["guest_name"], node=node, status="stopped", config=config)
            return f"restore vma archive: {v['archive']}"

        return await self.task(node, "qmrestore", vmid, user, body, lock=False)

    async def _qm_resize(self, values, user):
        """Grow a VM disk as PVE does (fakepve answers QEMU resize from the schema alone)."""
        vm = self.find(values["node"], values["vmid"])
        disk, wanted = values["disk"], str(values["size"])
        if disk not in vm.config:
            raise PveError(500, f"disk '{disk}' does not exist")
        current = parse_size(re.search(r"size=(\w+)", vm.config[disk]).group(1))
        new = current + parse_size(wanted[1:]) if wanted.startswith("+") else parse_size(wanted)
        if new < current:
            raise PveError(500, "shrinking disks is not supported")

        async def body():
            size = f"size={format_size(new)}"
            vm.config[disk] = re.sub(r"size=\w+", size, vm.config[disk])
            storage, _, volume = vm.config[disk].split(",")[0].partition(":")
            allocated = self.storages.get(storage, {}).get("volumes", {}).get(volume)
            if allocated is not None:  # what a clone copies
                allocated["size"] = new

        return await self.task(vm.node, "resize", vm.vmid, user, body, vm=vm, lock=False)

    async def _rrddata(self, values, user):
        guest = self.guest(int(values["vmid"]))
        return usage_history(guest, values["timeframe"], time.time())

    async def _vzdump(self, values, user):
        vmid = int(str(values["vmid"]).split(",")[0])
        guest, storage = self.guest(vmid), values.get("storage", "local")
        kind = "lxc" if self.ct(vmid) else "qemu"

        async def body():
            await self.pause(getattr(guest, "start_secs", 5))
            stamp = time.strftime("%Y_%m_%d-%H_%M_%S", time.gmtime())
            name = f"vzdump-{kind}-{vmid}-{stamp}.{'tar' if kind == 'lxc' else 'vma'}.zst"
            add_backup_file(self, storage, vmid, name, 700 * 2**20)
            # What a restore brings back (fakepve cannot restore a QEMU archive by itself).
            volume = self.storages[storage]["volumes"][f"backup/{name}"]
            volume.update(guest_name=guest.name, config=dict(guest.config))
            return f"INFO: Finished Backup of VM {vmid}"

        log = [f"INFO: starting new backup job: vzdump {vmid} --storage {storage}"]
        return await self.task(
            guest.node, "vzdump", vmid, user, body, vm=guest, lock=False, log=log
        )


def lease_address(vmid: int) -> str:
    """The address the demo's "DHCP server" gives a guest: loopback, unique per VMID."""
    return f"127.77.{(vmid >> 8) & 255}.{vmid & 255}"


def on_dhcp(config: dict) -> bool:
    """True when the container's first network device takes its address by DHCP."""
    return "ip=dhcp" in str(config.get("net0", ""))


def agent_interfaces(vmid: int, config: dict) -> list[dict]:
    """What `network-get-interfaces` answers for a VM: loopback, and eth0 with its lease."""
    return [
        {"name": "lo", "hardware-address": "00:00:00:00:00:00",
         "ip-addresses": [{"ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8}]},
        {"name": "eth0", "hardware-address": "bc:24:11:00:00:01",
         "ip-addresses": [
             {"ip-address": lease_address(vmid), "ip-address-type": "ipv4", "prefix": 8}
         ]},
    ]  # fmt: skip


def add_backup_file(pve: FakePve, storage: str, vmid: int, name: str, size: int) -> None:
    """A vzdump file of guest vmid on storage, as PVE lists it (owned by that VMID)."""
    pve.store_file(storage, name, size, content="backup")
    pve.storages[storage]["volumes"][f"backup/{name}"]["vmid"] = vmid


def usage_history(guest, timeframe: str, now: float) -> list[dict]:
    """Smooth, repeatable samples for one guest; a stopped guest has samples without values."""
    step, count = TIMEFRAMES[timeframe]
    cores = int(guest.config.get("cores") or 1)
    maxmem = int(guest.config.get("memory") or 512) * 2**20
    end = int(now // step * step)
    samples = []
    for i in range(count):
        moment = end - (count - 1 - i) * step
        sample = {"time": moment}
        if guest.status == "running":
            wave = math.sin(moment / (step * 7) + guest.vmid) * 0.5 + 0.5
            ripple = math.sin(moment / (step * 2.3) + guest.vmid * 3) * 0.5 + 0.5
            sample.update(
                cpu=0.05 + 0.4 * wave * ripple, maxcpu=cores,
                mem=maxmem * (0.35 + 0.25 * wave), maxmem=maxmem,
                netin=20000 + 180000 * ripple, netout=8000 + 90000 * wave,
                diskread=4096 * 40 * wave, diskwrite=4096 * 25 * ripple,
            )  # fmt: skip
        samples.append(sample)
    return samples


def load_cluster(pve: FakePve, cluster: dict) -> None:
    """Add the nodes, guests and volumes (container templates) of a cluster file to the fake."""
    for node in cluster.get("nodes", []):
        pve.add_node(node)
    for volume in cluster.get("volumes", []):
        pve.store_file(volume["storage"], volume["name"], volume["size"], volume["content"])
    for spec in cluster["guests"]:
        common = dict(
            node=spec.get("node", "pve1"),
            status=spec.get("status", "stopped"),
            config=spec.get("config", {}),
            template=spec.get("template", False),
        )
        if spec.get("type", "qemu") == "lxc":
            guest = pve.add_ct(spec["vmid"], spec["name"], **common)
        else:
            guest = pve.add_vm(spec["vmid"], spec["name"], **common)
            guest.screen = demo_vnc.demo_screen(spec["vmid"])
        guest.stats.update(spec.get("stats", {}))
        # Slow enough to watch a task run in the demo, short thanks to --time-scale.
        guest.start_secs = guest.stop_secs = spec.get("task_secs", 5)
        guest.shutdown_secs = spec.get("shutdown_secs", 10)


def certificate(pki_dir: Path, host: str) -> tuple[str, str]:
    """Reuse the demo certificate (the portal trusts it as its CA), or make one."""
    cert, key = pki_dir / "fakepve.crt", pki_dir / "fakepve.key"
    if not (cert.exists() and key.exists()):
        pki_dir.mkdir(parents=True, exist_ok=True)
        make_cert(str(pki_dir), hosts=(host,))
    return str(cert), str(key)


async def serve(args: argparse.Namespace) -> None:
    pve = DemoPve(
        user="root@pam",
        password=os.environ["FAKEPVE_ROOT_PASSWORD"],
        host=args.host,
        port=args.port,
    )
    pve.time_scale = args.time_scale
    pve.apitokens[args.token_id] = os.environ["FAKEPVE_TOKEN_VALUE"]
    if args.read_only:  # the README's read-only setup: PVEAuditor for the token and its user
        for holder in (args.token_id, args.token_id.split("!")[0]):
            pve.grant(holder, "/", *AUDITOR)
    load_cluster(pve, json.loads(Path(args.cluster).read_text()))
    pve.storages["local"]["content"] += ",import"  # as an admin allows it for the base template
    await pve.start(*certificate(Path(args.pki_dir), args.host))
    if args.images_port:
        await demo_apps.serve_image_sums(args.host, args.images_port)
    print(f"fakepve: demo cluster at {pve.url} ({len(pve.nodes)} nodes)", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cluster")
    parser.add_argument("--host", default="127.0.0.2")
    parser.add_argument("--port", type=int, default=8006)
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--pki-dir", required=True)
    parser.add_argument("--token-id", default="root@pam!portal")
    parser.add_argument(
        "--images-port", type=int, default=0,
        help="serve SHA512SUMS for the base template's image on http://HOST:PORT/",
    )  # fmt: skip
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="the token holds only PVEAuditor (give a --token-id not of root@pam)",
    )
    try:
        asyncio.run(serve(parser.parse_args()))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

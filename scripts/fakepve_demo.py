"""Serve a fake Proxmox VE (fakepve) with the demo cluster and an API token for the portal.

A dev/demo tool, run as its own process by scripts/demo.sh; the portal (app/) never
imports fakepve. fakepve's own CLI cannot add API tokens or nodes, hence this script.

    python scripts/fakepve_demo.py demo/cluster.json --host 127.0.0.2 --port 8006 \
        --pki-dir instance/demo --token-id root@pam!portal   (token secret in FAKEPVE_TOKEN_VALUE)
"""

import argparse
import asyncio
import json
import os
from pathlib import Path

from fakepve import FakePve
from fakepve.certs import make_cert


def load_cluster(pve: FakePve, cluster: dict) -> None:
    """Add the nodes and guests of a cluster file to the fake."""
    for node in cluster.get("nodes", []):
        pve.add_node(node)
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
    pve = FakePve(
        user="root@pam",
        password=os.environ["FAKEPVE_ROOT_PASSWORD"],
        host=args.host,
        port=args.port,
    )
    pve.time_scale = args.time_scale
    pve.apitokens[args.token_id] = os.environ["FAKEPVE_TOKEN_VALUE"]
    load_cluster(pve, json.loads(Path(args.cluster).read_text()))
    await pve.start(*certificate(Path(args.pki_dir), args.host))
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
    try:
        asyncio.run(serve(parser.parse_args()))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

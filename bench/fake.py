"""fakepve for the benchmark: the demo's fake (scripts/fakepve_demo.py) with a generated
cluster, plus a plain-HTTP control port on loopback that counts the API requests it served.

    python bench/fake.py SIZE --port 8106 --control-port 8107 --pki-dir DIR
    GET  http://127.0.0.1:8107/count  -> API requests so far, by token id
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections import Counter
from pathlib import Path

from aiohttp import web

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent.parent / "scripts")]
from cluster import generate  # noqa: E402
from fakepve_demo import DemoPve, certificate, load_cluster  # noqa: E402


class CountingPve(DemoPve):
    """Counts every request by API token (pve.requests keeps only the latest ones): the portal's
    web side and its job worker use different tokens, so a page's calls are told apart from
    the worker's."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.served: Counter[str] = Counter()

    def _record(self, request, body):
        header = request.headers.get("Authorization", "")
        self.served[header.removeprefix("PVEAPIToken=").split("=")[0]] += 1
        super()._record(request, body)


async def serve(args: argparse.Namespace) -> None:
    pve = CountingPve(user="root@pam", password=os.environ["FAKEPVE_ROOT_PASSWORD"],
                      host=args.host, port=args.port)  # fmt: skip
    pve.time_scale = args.time_scale
    pve.max_requests = 100
    for token in ("root@pam!portal", "root@pam!worker"):
        pve.apitokens[token] = os.environ["FAKEPVE_TOKEN_VALUE"]
    load_cluster(pve, generate(args.size))
    await pve.start(*certificate(Path(args.pki_dir), args.host))

    async def count(request):
        return web.json_response(dict(pve.served))

    control = web.Application()
    control.router.add_get("/count", count)
    runner = web.AppRunner(control, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.control_port).start()
    print(f"fakepve: {args.size} guests at {pve.url}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("size", type=int)
    parser.add_argument("--host", default="127.0.0.2")
    parser.add_argument("--port", type=int, default=8106)
    parser.add_argument("--control-port", type=int, default=8107)
    parser.add_argument("--time-scale", type=float, default=0.3)
    parser.add_argument("--pki-dir", required=True)
    try:
        asyncio.run(serve(parser.parse_args()))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

"""`make bench`: the portal under its own gunicorn config against generated fakepve clusters.

For 100, 1,000 and 5,000 guests over 16 nodes it measures, on loopback:
- Proxmox requests per dashboard view, guest page, app page, task poll and deploy poll
  (counted at the fake);
- p50/p95 of the dashboard, the guest page and the app page, and their HTML bytes;
- the floor: one /cluster/resources fetch + JSON decode through proxmoxer, and the guest
  page's slowest single Proxmox call;
- requests per second with Sentry off and on (production settings, a local endpoint that
  accepts envelopes), alternated;
- the peak RSS of a gunicorn worker and of the job worker.

It prints a table per size and writes them all to bench/results.json (BENCH_OUT moves it).
BENCH_SIZES="100 1000" picks other sizes.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import deploys  # noqa: E402
from cluster import NODES, node_name  # noqa: E402
from harness import ROOT, Fake, Portal, measure, sentry_on_off  # noqa: E402

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "100 1000 5000").split()]
TIMED = int(os.environ.get("BENCH_REQUESTS", "50"))
DEPLOYS = os.environ.get("BENCH_DEPLOYS", "1") != "0"  # the concurrent-deploys scenario


def bench_size(size: int, workdir: Path) -> dict:
    """Every figure for one cluster size."""
    with Fake(size, workdir) as fake, Portal(fake, workdir, sentry=False) as off:
        session = off.log_in()
        first_vm = 1000  # vmid 1000 is a running VM on pve01 (bench/cluster.py)
        guest_url = f"/guests/{node_name(0)}/qemu/{first_vm}"
        result: dict = {"guests": size, "nodes": NODES}

        app_url = off.deploy_app(session, fake)
        result["proxmox_requests"] = {
            "dashboard": fake.requests_for(lambda: session.get(off.url + "/")),
            "guest_page": fake.requests_for(lambda: session.get(off.url + guest_url)),
            "app_page": fake.requests_for(lambda: session.get(off.url + app_url)),
            **off.poll_counts(session, fake, node_name(4), 1004),
        }
        for name, path in (("dashboard", "/"), ("guest_page", guest_url), ("app_page", app_url)):
            result[name] = measure(session, off.url + path, TIMED)
        result["floor"] = fake.floor(TIMED, node_name(0), first_vm)
        result["ratios"] = {
            "dashboard_p50_over_floor": round(
                result["dashboard"]["p50_ms"] / result["floor"]["cluster_resources_p50_ms"], 2
            ),
            "dashboard_p50_minus_floor_ms": round(
                result["dashboard"]["p50_ms"] - result["floor"]["cluster_resources_p50_ms"], 1
            ),
            "guest_page_p50_over_slowest_call": round(
                result["guest_page"]["p50_ms"] / result["floor"]["guest_page_slowest_call_p50_ms"],
                2,
            ),
        }
        result["requests_per_second"] = sentry_on_off(fake, workdir, off.database)
        if DEPLOYS:
            job_workers = int(off.env["JOB_WORKERS"])
            result["concurrent_deploys"] = deploys.run(off, job_workers, off.one_deploy_seconds)
        result["peak_rss_mb"] = {"gunicorn_worker": off.worker_peak_rss_mb(),
                                 "job_worker": off.job_worker_peak_rss_mb()}  # fmt: skip
        result["targets"] = targets(result)
        return result


def targets(r: dict) -> list[dict]:
    """Issue 25's targets beside the figures: met or not met."""
    floor, rss = r["floor"], r["peak_rss_mb"]
    guest, slowest = r["guest_page"]["p50_ms"], floor["guest_page_slowest_call_p50_ms"]
    # The issue names 100 guests (+ 15 ms) and 5,000 (1.3×); a size between is held to the
    # looser of the two, which is + 15 ms below a 50 ms call and 1.3× above it.
    if r["guests"] <= 100:
        guest_target, guest_met = "≤ slowest call + 15 ms", guest <= slowest + 15
    elif r["guests"] >= 5000:
        guest_target, guest_met = "≤ 1.3× slowest call", guest <= 1.3 * slowest
    else:
        guest_target = "≤ slowest call + 15 ms or 1.3×, the larger"
        guest_met = guest <= max(slowest + 15, 1.3 * slowest)
    rows = [
        ("Proxmox requests per dashboard view", "= 1", r["proxmox_requests"]["dashboard"],
         r["proxmox_requests"]["dashboard"] == 1),
        ("Sentry on ÷ off", "≥ 0.97", r["requests_per_second"]["ratio"],
         r["requests_per_second"]["ratio"] >= 0.97),
        ("gunicorn worker peak RSS (MB)", "≤ 110", rss["gunicorn_worker"],
         rss["gunicorn_worker"] <= 110),
        ("job worker peak RSS (MB)", "≤ 100", rss["job_worker"], rss["job_worker"] <= 100),
        ("guest page p50 (ms)", guest_target, f"{guest} (slowest call {slowest})", guest_met),
    ]  # fmt: skip
    deploys_run = r.get("concurrent_deploys")
    if deploys_run:
        ended = deploys_run["stuck"] == 0 and deploys_run["accepted"] == deploys_run["deploys"]
        rows += [
            ("20 concurrent deploys: all accepted and ended, none stuck", "none stuck",
             f"{deploys_run['statuses']}", ended),
            ("worker overhead per deploy (s)", "≤ 2", deploys_run["overhead_per_deploy_s"],
             deploys_run["overhead_per_deploy_s"] <= 2),
        ]  # fmt: skip
    return [{"target": t, "wanted": w, "measured": m, "met": bool(ok)} for t, w, m, ok in rows]


def table(result: dict) -> str:
    """One size's figures as a plain-text table."""
    r, n, floor = result, result["proxmox_requests"], result["floor"]
    rps = r["requests_per_second"]
    rows = [
        (f"{r['guests']} guests over {r['nodes']} nodes", ""),
        ("Proxmox requests: dashboard / guest page / app page",
         f"{n['dashboard']} / {n['guest_page']} / {n['app_page']}"),
        ("Proxmox requests: task poll / deploy poll", f"{n['task_poll']} / {n['deploy_poll']}"),
        *[(f"{label} p50 / p95, HTML", f"{r[key]['p50_ms']} / {r[key]['p95_ms']} ms, "
           f"{r[key]['bytes']:,} B") for key, label in
          (("dashboard", "dashboard"), ("guest_page", "guest page"), ("app_page", "app page"))],
        ("floor: /cluster/resources fetch + decode p50", f"{floor['cluster_resources_p50_ms']} ms"),
        ("floor: guest page's slowest call p50",
         f"{floor['guest_page_slowest_call_p50_ms']} ms ({floor['guest_page_slowest_call']})"),
        ("dashboard p50 / floor", f"{r['ratios']['dashboard_p50_over_floor']}×  "
         f"(+{r['ratios']['dashboard_p50_minus_floor_ms']} ms)"),
        ("guest page p50 / slowest call", f"{r['ratios']['guest_page_p50_over_slowest_call']}×  "
         f"(its six calls in a row at the fake: {floor['guest_page_calls_in_a_row_ms']} ms)"),
        ("requests/s Sentry off / on (ratio)", f"{rps['off']} / {rps['on']} ({rps['ratio']}; "
         f"each pair: {', '.join(str(x) for x in rps['pair_ratios'])})"),
        ("peak RSS: gunicorn worker / job worker",
         f"{r['peak_rss_mb']['gunicorn_worker']} / {r['peak_rss_mb']['job_worker']} MB"),
    ]  # fmt: skip
    if "concurrent_deploys" in r:
        d = r["concurrent_deploys"]
        rows.append(("20 deploys at once (5 users)",
                     f"{d['statuses']} in {d['makespan_s']} s with {d['job_workers']} job workers; "
                     f"one alone {d['one_deploy_alone_s']} s"))  # fmt: skip
    rows += [
        (
            f"target: {t['target']} ({t['wanted']})",
            f"{t['measured']}  {'met' if t['met'] else 'NOT MET'}",
        )
        for t in r["targets"]
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)


def main() -> int:
    started = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        for size in SIZES:
            workdir = Path(tmp) / str(size)
            workdir.mkdir()
            result = bench_size(size, workdir)
            results.append(result)
            print(table(result), "\n", flush=True)
    out = Path(os.environ.get("BENCH_OUT", ROOT / "bench" / "results.json"))
    summary = {"sizes": results, "seconds": round(time.monotonic() - started),
               "cpus": os.cpu_count(), "median_of": TIMED}  # fmt: skip
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"Written to {out} in {summary['seconds']} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

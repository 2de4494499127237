"""The concurrent-deploys scenario: five users start twenty deploys within a few seconds through
the API; every one must end running or failed (none stuck), and the job worker's cost per
deploy beyond what one deploy alone takes is reported.

With JOB_WORKERS threads the worker runs that many deploys at once, so twenty take about
20 / JOB_WORKERS times one deploy; what goes beyond that is the worker's overhead:
    overhead per deploy = makespan × JOB_WORKERS / 20 − one deploy alone.
"""

from __future__ import annotations

import threading
import time

import requests

USERS, EACH = 5, 4
DEPLOY = {"catalog_id": "postgresql", "runtime": "oci", "node": "auto", "storage": "local-lvm",
          "cores": 1, "memory": 512, "disk": 4, "inputs": {"postgres_user": "bench"}}  # fmt: skip


def run(portal, job_workers: int, alone_seconds: float, timeout: float = 900) -> dict:
    """Start USERS × EACH deploys at once, wait for all to end; the figures."""
    sessions = []
    for number in range(USERS):
        name = f"bench-user-{number}"
        portal.flask("users", "create", name, "--password", "bench-user-pw-1")
        token = portal.flask_output("tokens", "create", name, "--name", "bench", "--scope",
                                    "write").strip()  # fmt: skip
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        sessions.append(session)
    api = portal.url + "/api/v1"
    answers: list[int] = []

    def start(session: requests.Session, user: int) -> None:
        for n in range(EACH):
            body = {**DEPLOY, "name": f"c{user}-{n}"}
            answers.append(session.post(api + "/apps", json=body, timeout=60).status_code)

    started = time.monotonic()
    threads = [threading.Thread(target=start, args=(s, i)) for i, s in enumerate(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted_in = time.monotonic() - started
    statuses: dict[str, int] = {}
    while time.monotonic() - started < timeout:
        apps = [a for s in sessions for a in s.get(api + "/apps", timeout=60).json()["apps"]]
        statuses = {}
        for app in apps:
            statuses[app["status"]] = statuses.get(app["status"], 0) + 1
        if not statuses.get("deploying"):
            break
        time.sleep(0.5)
    makespan = time.monotonic() - started
    total = USERS * EACH
    overhead = makespan * job_workers / total - alone_seconds
    return {
        "deploys": total, "accepted": answers.count(202), "started_within_s": round(accepted_in, 1),
        "statuses": statuses, "stuck": statuses.get("deploying", 0),
        "makespan_s": round(makespan, 1), "job_workers": job_workers,
        "one_deploy_alone_s": round(alone_seconds, 1),
        "overhead_per_deploy_s": round(overhead, 2),
    }  # fmt: skip

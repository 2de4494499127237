"""Several instances of the portal behind a load balancer: two gunicorn instances over one
PostgreSQL and one Redis share sessions, deploys, login limits and the job queue; and a
bounded load run (locust, 50 simulated browsers for 20 s) gives no 5xx and no database lock
error, on SQLite with one instance and on PostgreSQL with two."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.conftest import ADMIN_PASSWORD, csrf_token_in, emptied_postgres, running_redis
from tests.e2e.conftest import ROOT, Portal, start_portal

POSTGRES = {"name": "site", "node": "auto", "storage": "local-lvm", "cores": "1", "memory": "512",
         "disk": "4", "input_postgres_user": "app", "runtime": "oci"}  # fmt: skip
LOAD_USERS, LOAD_SECONDS = 50, 20
# `make test` installs locust in a venv of its own (requirements-load.txt).
LOCUST = ROOT / os.environ.get("LOAD_VENV", ".venv-load") / "bin" / "locust"


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory, pve_server):
    """Two portals on one PostgreSQL and one Redis; only the first runs a job worker. The
    module's tests share them, in order: what they share, then the load on them."""
    workdir = tmp_path_factory.mktemp("instances")
    with running_redis(workdir) as redis_url:
        shared = {"DATABASE_URL": emptied_postgres(), "JOBS_URL": redis_url}
        first = start_portal(folder(workdir, "a"), pve_server, "wsgi:app", job_worker=True,
                             **shared)  # fmt: skip
        second = start_portal(folder(workdir, "b"), pve_server, "wsgi:app", accounts=False,
                              **shared)  # fmt: skip
        yield first, second
        for portal in (first, second):
            portal.stop()


def folder(parent: Path, name: str) -> Path:
    (parent / name).mkdir()
    return parent / name


def deploy(session: requests.Session, portal: Portal) -> str:
    """Start a PostgreSQL deploy (an OCI container) on portal; the app page's path."""
    form = session.get(portal.url + "/apps/postgresql/deploy").text
    data = {**POSTGRES, "name": f"site-{uuid.uuid4().hex[:6]}", "csrf_token": csrf_token_in(form),
            "request_key": uuid.uuid4().hex}  # fmt: skip
    response = session.post(portal.url + "/apps/postgresql/deploy", data=data)
    path = response.url.removeprefix(portal.url)
    assert re.fullmatch(r"/my-apps/\d+", path), response.text[:500]
    return path


def wait_until_running(session: requests.Session, url: str) -> None:
    deadline = time.monotonic() + 60
    while "Running at" not in session.get(url).text:
        assert time.monotonic() < deadline, f"{url} never ran"
        time.sleep(0.3)


def test_two_instances_share_sessions_deploys_limits_and_the_queue(two_instances):
    first, second = two_instances
    alice = first.session("alice", ADMIN_PASSWORD)
    # The session made on the first instance is good on the second.
    on_second = alice.get(second.url + "/my-apps", allow_redirects=False)
    assert on_second.status_code == 200 and "Apps deployed" in on_second.text

    # A deploy started on the first is followed on the second, and one started on the second
    # (which has no worker) is run by the first's worker: one queue.
    started_on_first = deploy(alice, first)
    started_on_second = deploy(alice, second)
    assert started_on_first != started_on_second
    wait_until_running(alice, second.url + started_on_first)
    wait_until_running(alice, first.url + started_on_second)

    # Failed logins count across instances: five wrong passwords, spread over both, lock bob
    # out of each.
    stranger = requests.Session()
    for portal in (first, second, first, second, first):
        token = csrf_token_in(stranger.get(portal.url + "/login").text)
        wrong = {"username": "bob", "password": "not-it", "csrf_token": token}
        assert stranger.post(portal.url + "/login", data=wrong).status_code == 200
    token = csrf_token_in(stranger.get(second.url + "/login").text)
    again = {"username": "bob", "password": "still-not-it", "csrf_token": token}
    locked = stranger.post(second.url + "/login", data=again)
    assert locked.status_code == 429


def load(portals: list[Portal], tmp_path: Path, stopped_vm: str) -> dict:
    """LOAD_USERS browsers for LOAD_SECONDS over the portals, after a deploy and the start of
    stopped_vm (whose task is polled); locust's figures and the portals' logs."""
    alice = portals[0].session("alice", ADMIN_PASSWORD)
    app_path = deploy(alice, portals[0])
    wait_until_running(alice, portals[0].url + app_path)
    page = alice.get(portals[0].url + stopped_vm).text
    started = alice.post(
        portals[0].url + stopped_vm + "/power/start",
        data={"csrf_token": csrf_token_in(page), "request_key": uuid.uuid4().hex},
    )
    task_path = started.url.removeprefix(portals[0].url)
    assert re.fullmatch(r"/tasks/\d+", task_path), started.url
    env = {
        **os.environ, "LOAD_HOSTS": " ".join(p.url for p in portals),
        "LOAD_COOKIE": "; ".join(f"{c.name}={c.value}" for c in alice.cookies),
        "LOAD_GUEST": "/guests/pve1/qemu/100", "LOAD_TASK": task_path, "LOAD_APP": app_path,
    }  # fmt: skip
    prefix = tmp_path / "locust"
    run = subprocess.run(
        [LOCUST, "-f", "bench/locustfile.py", "--headless", "-u", str(LOAD_USERS),
         "-r", "25", "-t", f"{LOAD_SECONDS}s", "--host", portals[0].url, "--csv", prefix,
         "--only-summary", "--stop-timeout", "5"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=LOAD_SECONDS + 60,
    )  # fmt: skip
    with open(f"{prefix}_stats.csv") as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    for portal in portals:
        portal.stop()
    logs = "".join(portal.log for portal in portals)
    return {"run": run, "rows": rows, "logs": logs}


def assert_clean(result: dict) -> None:
    total = result["rows"]["Aggregated"]
    assert int(total["Request Count"]) > 500, result["run"].stderr[-2000:]
    assert int(total["Failure Count"]) == 0, result["run"].stderr[-3000:]
    assert set(result["rows"]) >= {"dashboard", "guest page", "task poll", "app page"}
    assert not re.search(r'" 5\d\d ', result["logs"]), "a 5xx in the access log"
    assert "database is locked" not in result["logs"]
    assert "OperationalError" not in result["logs"]


def test_load_on_sqlite_with_one_instance(tmp_path, pve_server):
    portal = start_portal(folder(tmp_path, "one"), pve_server, "wsgi:app", job_worker=True)
    assert_clean(load([portal], tmp_path, "/guests/pve3/qemu/108"))


def test_load_on_postgresql_with_two_instances(two_instances, tmp_path):
    assert_clean(load(list(two_instances), tmp_path, "/guests/pve1/qemu/109"))

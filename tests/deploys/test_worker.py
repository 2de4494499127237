"""Deploys in real worker processes: a worker killed mid-deploy (SIGKILL) and started again
ends the deploy; several instances share one Redis queue and run concurrent deploys once each.
The secrets reach the worker sealed: the queue's file never holds them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from app import config, jobs
from tests.conftest import TOKEN_NAME, TOKEN_USER, TOKEN_VALUE, log_in
from tests.deploys.conftest import CODE_SERVER_FORM, apps_in

ROOT = config.PROJECT_ROOT
SECRET = CODE_SERVER_FORM["input_code_server_password"]


@pytest.fixture
def recorded(app, monkeypatch):
    """Deploys are recorded by the web side but queued by the test (into a real queue)."""
    monkeypatch.setattr(jobs, "run_app", lambda app_id: None)


def worker_env(app, pve, cafile, jobs_url: str, **extra: str) -> dict:
    return {
        **os.environ,
        "SECRET_KEY": app.config["SECRET_KEY"],  # the key the web side sealed secrets with
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "JOBS_URL": jobs_url,
        "PROXMOX_HOST": f"{pve.host}:{pve.port}",
        "PROXMOX_USER": TOKEN_USER,
        "PROXMOX_TOKEN_NAME": TOKEN_NAME,
        "PROXMOX_TOKEN_VALUE": TOKEN_VALUE,
        "PROXMOX_VERIFY_SSL": cafile,
        "DEPLOY_POLL_SECONDS": "0.1",
        **extra,
    }


def enqueue(env: dict, *app_ids: int) -> None:
    """Queue deploys from another process, as a web worker would."""
    code = f"from app.jobs import run_app\nfor i in {list(app_ids)}: run_app(i)"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def stop(worker: subprocess.Popen) -> str:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    return worker.communicate(timeout=30)[0]


def wait_until(check, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def deploy_form(app, user: str, name: str) -> None:
    client = log_in(app, user, "user")
    data = {**CODE_SERVER_FORM, "name": name, "request_key": os.urandom(16).hex()}
    assert client.post("/apps/code-server/deploy", data=data).status_code == 302


def test_a_worker_killed_mid_deploy_leaves_it_to_the_next_worker(
    app, pve, recorded, fakepve_cafile, tmp_path
):
    deploy_form(app, "bob", "blog")
    pve.guest_agents = False  # the guest does not boot yet: the deploy waits
    queue = tmp_path / "jobs.sqlite"
    env = worker_env(app, pve, fakepve_cafile, f"sqlite:///{queue}", DEPLOY_LEASE_SECONDS="2",
                     DEPLOY_BOOT_TIMEOUT="120")  # fmt: skip
    enqueue(env, 1)
    first = start_worker(env)
    try:
        wait_until(lambda: apps_in(app)[0].steps[5].status == "running")
        assert SECRET.encode() not in queue.read_bytes()  # only the app's id is queued
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    assert apps_in(app)[0].status == "deploying"
    pve.guest_agents = True  # the guest has booted meanwhile
    time.sleep(2.5)  # the dead worker's lease runs out
    second = start_worker(env)
    try:
        wait_until(lambda: apps_in(app)[0].status != "deploying")
    finally:
        output = stop(second)
    row = apps_in(app)[0]
    assert row.status == "running" and row.attempts == 2, (row.error, output)
    assert [s.status for s in row.steps] == ["done"] * 10
    assert [vm.name for vm in pve.vms].count("blog") == 1


def test_two_instances_share_a_redis_queue_and_run_concurrent_deploys_once(
    app, pve, recorded, fakepve_cafile, redis_url
):
    names = ["one", "two", "three", "four"]
    for name in names:
        deploy_form(app, f"user-{name}", name)
    env = worker_env(app, pve, fakepve_cafile, redis_url)
    instances = [start_worker(env), start_worker(env)]
    try:
        time.sleep(2)  # both consumers are listening before the work arrives
        enqueue(env, 1, 2)  # from one web instance...
        enqueue(env, 3, 4)  # ...and from the other
        wait_until(lambda: all(row.status != "deploying" for row in apps_in(app)), 60)
    finally:
        outputs = [stop(worker) for worker in instances]
    rows = apps_in(app)
    assert [row.status for row in rows] == ["running"] * 4, [row.error for row in rows]
    assert all(row.attempts == 1 for row in rows)  # each deploy ran once
    assert len({row.vmid for row in rows}) == 4
    assert sorted(vm.name for vm in pve.vms if vm.name in names) == sorted(names)
    for output in outputs:
        assert "RedisStorage" in output and "Deploying app" in output, output

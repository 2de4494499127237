"""The job queue: the worker's task sync ends tasks nobody watched and reports failures for the
user who started them; a real worker process runs a job a web process enqueued."""

import os
import signal
import subprocess
import sys
import time

from app import config
from app.extensions import db
from app.models import Task
from app.services import tasks
from tests.conftest import TOKEN_NAME, TOKEN_USER, TOKEN_VALUE, log_in
from tests.guests.conftest import last_task, press, url


def test_the_sync_ends_tasks_nobody_watched_and_reports_failures_for_their_user(sentry, guests):
    app, transport = sentry()
    bob = log_in(app, "bob", "admin")
    press(bob, url("lxc", 201, suffix="/power/reboot"))
    guests.fail("POST", "/nodes/pve1/qemu/101/status/start", error="start_failed")
    press(bob, url("qemu", 101, suffix="/power/start"))
    with app.app_context():  # as in the worker: no request
        assert tasks.sync_running() == 2
        assert tasks.sync_running() == 0  # nothing left running, nothing reported twice
        states = {t.action: (t.status, t.exit_status) for t in db.session.scalars(db.select(Task))}
    assert states == {
        "reboot": ("stopped", "OK"),
        "start": ("stopped", "start failed: unexpected error"),
    }
    events = [e for e in transport.events() if e["tags"].get("error_type") == "proxmox"]
    assert len(events) == 1
    assert events[0]["user"]["username"] == "bob" and events[0]["tags"]["user_role"] == "admin"
    assert events[0]["contexts"]["proxmox_error"]["vmid"] == 101


def test_a_worker_process_runs_a_job_the_web_side_enqueued(app, guests, tmp_path, fakepve_cafile):
    client = log_in(app)
    press(client, url("lxc", 201, suffix="/power/reboot"))
    assert last_task(app).status == "running"  # nobody has looked at it
    env = {
        **os.environ,
        "SECRET_KEY": "worker-test-key",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "JOBS_URL": f"sqlite:///{tmp_path / 'jobs.sqlite'}",
        "PROXMOX_HOST": f"{guests.host}:{guests.port}",
        "PROXMOX_USER": TOKEN_USER,
        "PROXMOX_TOKEN_NAME": TOKEN_NAME,
        "PROXMOX_TOKEN_VALUE": TOKEN_VALUE,
        "PROXMOX_VERIFY_SSL": fakepve_cafile,
    }
    enqueue = "from app.jobs import sync_running_tasks; sync_running_tasks()"
    subprocess.run([sys.executable, "-c", enqueue], cwd=config.PROJECT_ROOT, env=env, check=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers", "1"],
        cwd=config.PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while last_task(app).status == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert last_task(app).status == "stopped" and last_task(app).exit_status == "OK"
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=30)[0]
    assert worker.returncode == 0, output
    assert "Worker: 1 threads" in output


def test_the_sync_skips_a_round_while_proxmox_is_away(sentry, guests, caplog):
    from app.jobs import sync_running_tasks

    app, transport = sentry()
    press(log_in(app), url("lxc", 201, suffix="/power/reboot"))
    guests.fail("GET", "/status", status=595, message="No route to host")  # the task's status
    with app.app_context():
        assert tasks.sync_running() == 0  # the node does not answer: ask again next time
    guests.failures.clear()
    guests.flaky_network(drop_rate=1.0)
    with app.app_context():
        sync_running_tasks.call_local()  # the job's body, as the worker runs it
    guests.flaky_network()
    assert "Task sync skipped this minute" in caplog.text
    assert [e for e in transport.events() if e["tags"].get("error_type")] == []
    assert last_task(app).status == "running"

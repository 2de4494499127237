"""Servers for the end-to-end tests: Bugsink, fakepve and the portal under gunicorn.

All three run as their own processes on 127.0.0.1, as they would in production.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright

from scripts.local_bugsink import Bugsink
from scripts.wait_for_port import wait_for_port
from tests.conftest import (
    ADMIN_PASSWORD,
    TOKEN_VALUE,
    USER_PASSWORD,
    free_port,
    log_in_over_http,
)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET_KEY = "e2e-secret-key-5d1c"


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, driven by Playwright (which cannot download browsers here)."""
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    assert chromium, "Chromium is not installed: apt-get install chromium (.ci/run does)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def bugsink(tmp_path_factory):
    server = Bugsink(tmp_path_factory.mktemp("bugsink"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pve_server(request, tmp_path_factory):
    """fakepve with the demo cluster, run the way `make demo` runs it.

    Tasks take no time unless the test module sets FAKEPVE_TIME_SCALE (the demo's tasks
    last 5 PVE seconds, e.g. 2.5 s at 0.5).
    """
    time_scale = getattr(request.module, "FAKEPVE_TIME_SCALE", 0)
    pki = tmp_path_factory.mktemp("pki")
    port = free_port()
    env = {**os.environ, "FAKEPVE_TOKEN_VALUE": TOKEN_VALUE, "FAKEPVE_ROOT_PASSWORD": "e2e-root"}
    process = subprocess.Popen(
        [BIN / "python", "scripts/fakepve_demo.py", "demo/cluster.json", "--host", "127.0.0.1",
         "--port", str(port), "--time-scale", str(time_scale), "--pki-dir", pki],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    assert wait_for_port("127.0.0.1", port, 30), "fakepve did not start"
    yield {"host": f"127.0.0.1:{port}", "cafile": str(pki / "fakepve.crt")}
    process.terminate()
    process.wait(timeout=20)


@dataclass
class Portal:
    """The portal under gunicorn; `log` is gunicorn's output once it has stopped."""

    url: str
    release: str
    process: subprocess.Popen
    log_path: Path
    log: str = ""
    worker_pids: set[int] = field(default_factory=set)
    job_worker: subprocess.Popen | None = None  # `flask worker`, when started

    def session(self, username: str, password: str) -> requests.Session:
        """A browser-like session logged in as username."""
        session, landed = log_in_over_http(self.url, username, password)
        assert landed.url == self.url + "/"
        return session

    def stop(self) -> None:
        """SIGTERM, as systemd or Ctrl-C would: workers flush their queued events and exit."""
        for process in (self.process, self.job_worker):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
        self.log = self.log_path.read_text()


def start_portal(
    workdir: Path, pve_server: dict, app: str, job_worker: bool = False, accounts: bool = True,
    port: int | None = None, **env_vars: str,
) -> Portal:  # fmt: skip
    """The portal `app` under gunicorn.conf.py (2 workers, preload) with alice (admin) and bob
    (unless accounts is False: another instance made them), and with job_worker, the job
    worker (`flask worker`) beside it; on port (a free one by default)."""
    port = port or free_port()
    env = {
        **os.environ,
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{workdir / 'portal.sqlite'}",
        "PROXMOX_HOST": pve_server["host"],
        "PROXMOX_USER": "root@pam",
        "PROXMOX_TOKEN_NAME": "portal",
        "PROXMOX_TOKEN_VALUE": TOKEN_VALUE,
        "PROXMOX_PASSWORD": "",
        "PROXMOX_VERIFY_SSL": pve_server["cafile"],
        "SENTRY_DSN": "",
        "PORT": str(port),
        "GUNICORN_WORKERS": "2",
        "JOBS_URL": f"sqlite:///{workdir / 'jobs.sqlite'}",
        "DEPLOY_POLL_SECONDS": "0.3",
        **env_vars,
    }

    subprocess.run(
        [BIN / "python", "-m", "tests.e2e.prepare_db",
         *([ADMIN_PASSWORD, USER_PASSWORD] if accounts else [])],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    log_path = workdir / "gunicorn.log"
    with open(log_path, "w") as log:  # gunicorn keeps its own copy
        process = subprocess.Popen(
            [BIN / "gunicorn", "-c", "gunicorn.conf.py", app],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    portal = Portal(f"http://127.0.0.1:{port}", env.get("SENTRY_RELEASE", ""), process, log_path)
    if job_worker:
        with open(workdir / "worker.log", "w") as worker_log:
            portal.job_worker = subprocess.Popen(
                [BIN / "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                stdout=worker_log, stderr=subprocess.STDOUT,
            )  # fmt: skip
    wait_for_workers(portal, 2)
    return portal


AGENTLESS_APP = """# Sources: none; a test app.
name: Agentless VM
description: A Compose app in a VM whose template has no QEMU guest agent, so its deploy fails.
category: Testing
version: "1"
website: https://example.org/
template: tpl-windows-2022
resources:
  cores: {default: 1, minimum: 1}
  memory: {default: 512, minimum: 256}
  disk: {default: 16, minimum: 16}
health: {port: 8080}
"""
AGENTLESS_COMPOSE = """services:
  web:
    image: nginx:1.29.3
    ports: ["8080:80"]
"""


@pytest.fixture(scope="module")
def portal(tmp_path_factory, bugsink, pve_server):
    """tests.e2e.failing_app under gunicorn, and the job worker, reporting to Bugsink. Its
    catalog has one more app, whose deploys fail (its template has no guest agent)."""
    workdir = tmp_path_factory.mktemp("portal")
    catalog = workdir / "catalog"
    shutil.copytree(ROOT / "catalog", catalog)
    (catalog / "agentless").mkdir()
    (catalog / "agentless" / "app.yaml").write_text(AGENTLESS_APP)
    (catalog / "agentless" / "compose.yaml").write_text(AGENTLESS_COMPOSE)
    portal = start_portal(
        workdir, pve_server, "tests.e2e.failing_app:app", job_worker=True,
        SENTRY_DSN=bugsink.dsn, SENTRY_ENVIRONMENT="development",
        SENTRY_RELEASE=f"portal-e2e-{uuid.uuid4().hex[:8]}", SENTRY_DEBUG="false",
        CATALOG_DIR=str(catalog), DEPLOY_BOOT_TIMEOUT="3",
    )  # fmt: skip
    yield portal
    portal.stop()


def wait_for_workers(portal: Portal, count: int, seconds: float = 60) -> None:
    """Until gunicorn has booted `count` workers and answers /healthz."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert portal.process.poll() is None, portal.log_path.read_text()
        booted = re.findall(r"Booting worker with pid: (\d+)", portal.log_path.read_text())
        if len(booted) >= count:
            try:
                if requests.get(portal.url + "/healthz", timeout=2).status_code == 200:
                    portal.worker_pids = {int(pid) for pid in booted}
                    return
            except requests.ConnectionError:
                pass
        time.sleep(0.2)
    raise AssertionError("gunicorn did not come up:\n" + portal.log_path.read_text())


OIDC_DIR = ROOT / "tests" / "e2e" / "oidc"


@contextmanager
def openid_provider(port: int, redirect_uri: str, client_secret: str) -> Iterator[str]:
    """oidc-provider from npm (tests/e2e/oidc: `npm ci` there; .ci/run does it) on loopback;
    yields its issuer URL."""
    assert (OIDC_DIR / "node_modules" / "oidc-provider").is_dir(), (
        "run `npm ci` in tests/e2e/oidc (.ci/run does)"
    )
    process = subprocess.Popen(
        ["node", "provider.mjs", str(port), redirect_uri, client_secret], cwd=OIDC_DIR,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_for_port("127.0.0.1", port, 30), "oidc-provider did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)

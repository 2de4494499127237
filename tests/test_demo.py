"""`make demo` end to end: it serves the demo cluster, admin logs in, Ctrl-C stops both."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import csrf_token_in, free_port, log_in_over_http

ROOT = Path(__file__).resolve().parent.parent


def wait_healthy(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "demo exited early"
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} never became healthy")


DEMO_DEPLOYS = (("gitea", "vm", "git", "Gitea"), ("uptime-kuma", "oci", "kuma", "Uptime Kuma"))


def deployed(
    session: requests.Session, base: str, app_id: str, runtime: str, name: str, **extra: str
) -> str:
    """Deploy app_id with its form's defaults; its app page once the deploy has ended."""
    form = session.get(f"{base}/apps/{app_id}/deploy?runtime={runtime}").text
    values = dict(re.findall(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', form))
    data = {**values, "runtime": runtime, "name": name, "node": "auto", "storage": "local-lvm",
            **extra}  # fmt: skip
    response = session.post(f"{base}/apps/{app_id}/deploy", data=data)
    assert re.search(r"/my-apps/\d+$", response.url), response.text[-2000:]
    return settled(session, response.url)


def settled(session: requests.Session, url: str) -> str:
    """An app's page once its deploy (or build) has ended."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        page = session.get(url).text
        if "Running" in page or "Deploy again" in page or "Failed" in page:
            return page
        time.sleep(1)
    raise AssertionError(f"{url} did not finish")


def living_with_an_app(user: requests.Session, base: str, receiver) -> None:
    """The two-version app: deployed at 18.5, updated to 18.6 (healthy) in a VM and as an OCI
    container; one named -broken fails its health check after the update and is rolled back;
    the user's JSON target hears of it all; a backup schedule is saved in Proxmox."""
    url, received = receiver
    page = user.get(base + "/account/notifications").text
    user.post(base + "/account/notifications",
              data={"target_url": url, "csrf_token": csrf_token_in(page)})  # fmt: skip
    for name, runtime in (("pg", "vm"), ("pg-broken", "vm"), ("pg-ct", "oci")):
        page = deployed(user, base, "postgresql", runtime, name, version="18.5")
        assert "version 18.5" in page
        form = user.get(page_url(page, base) + "/update").text
        user.post(page_url(page, base) + "/update",
                  data={"csrf_token": csrf_token_in(form), "request_key": "f" * 32})  # fmt: skip
        after = settled(user, page_url(page, base))
        expected = "Rolled back to 18.5" if name == "pg-broken" else "version 18.6"
        assert expected in after, after[-2000:]
    assert [m["title"] for m in received] == [
        "pg is running", "pg was updated", "pg-broken is running",
        "pg-broken: the update was rolled back", "pg-ct is running", "pg-ct was updated",
    ]  # fmt: skip
    app_page = page_url(page, base)
    schedule = {"schedule": "daily", "keep": "7", "storage": "local", "request_key": "c" * 32,
                "csrf_token": csrf_token_in(user.get(app_page).text)}  # fmt: skip
    saved = user.post(app_page + "/backups", data=schedule).text
    assert "Backups scheduled: Every day at 02:30, keeping 7, on local." in saved


def through_the_api(user: requests.Session, base: str, demo_dir: Path) -> None:
    """The API's walk-through (docs/API.md): a token made with the CLI lists only the user's
    guests, starts one and follows its task, deploys an app and follows its job."""
    env = {**os.environ, "SECRET_KEY": (demo_dir / "secret_key").read_text().strip(),
           "DATABASE_URL": f"sqlite:///{demo_dir}/portal.sqlite"}  # fmt: skip
    made = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "tokens", "create", "user",
         "--name", "ci", "--scope", "write"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {made.stdout.strip()}"
    guests = api.get(base + "/api/v1/guests").json()["guests"]
    on_the_dashboard = re.findall(r'<tr data-vmid="(\d+)">', user.get(base + "/").text)
    assert sorted(str(g["vmid"]) for g in guests) == sorted(on_the_dashboard)
    vmids = {g["vmid"] for g in guests}
    assert {108, 118, 205, 208} <= vmids and 100 not in vmids  # 100: the admin's
    stopped = next(g for g in guests if g["status"] == "stopped")
    task = api.post(f"{base}/api/v1/guests/{stopped['vmid']}/power/start", json={}).json()
    start, quiet = 0, 0
    for _ in range(120):
        log = api.get(f"{base}/api/v1/tasks/{task['id']}/log",
                      params={"start": start, "quiet": quiet}).json()  # fmt: skip
        start, quiet = log["next_start"], log["quiet"]
        if log["task"]["status"] == "stopped":
            break
        time.sleep(0.5)
    assert log["task"]["succeeded"], log
    deploy = {"catalog_id": "uptime-kuma", "name": "kuma-api", "runtime": "oci",
              "storage": "local-lvm"}  # fmt: skip
    app = api.post(base + "/api/v1/apps", json=deploy).json()
    for _ in range(120):
        app = api.get(f"{base}/api/v1/apps/{app['id']}").json()
        if app["status"] != "deploying":
            break
        time.sleep(0.5)
    assert app["status"] == "running", app


def page_url(page: str, base: str) -> str:
    """The app page's own URL, from the page."""
    return base + re.search(r'action="(/my-apps/\d+)/delete"', page).group(1)


def test_demo_serves_the_demo_cluster_and_stops_on_ctrl_c(tmp_path, receiver):
    port, pve_port = free_port(), free_port()
    env = {
        **os.environ,
        "VENV": str(Path(sys.executable).parent.parent),
        "DEMO_DIR": str(tmp_path),
        "PORT": str(port),
        "FAKEPVE_HOST": "127.0.0.1",
        "FAKEPVE_PORT": str(pve_port),
        "FAKEPVE_IMAGES_PORT": str(free_port()),
        "DEMO_ADMIN_PASSWORD": "demo-test-pass",
        "DEMO_USER_PASSWORD": "demo-user-pass",
    }
    log = open(tmp_path / "demo.log", "w")  # noqa: SIM115 - closed below
    demo = subprocess.Popen(
        ["bash", "scripts/demo.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base + "/healthz", demo)
        session, dashboard = log_in_over_http(base, "admin", "demo-test-pass")
        assert dashboard.url == base + "/"
        rows = re.findall(r'<tr data-vmid="(\d+)">', dashboard.text)
        assert len(rows) >= 34  # 30+ guests and 4+ templates
        assert dashboard.text.count('class="node-card"') == 3
        guest = session.get(base + "/guests/pve1/qemu/100")  # web-frontend, running
        assert guest.status_code == 200
        assert guest.text.count("<polyline") == 7  # the demo's usage history is drawn
        # An admin makes another base template through the real job (pve3 has none).
        form = session.get(base + "/admin/base-template").text
        made = session.post(base + "/admin/base-template", data={
            "node": "pve3", "storage": "local-lvm", "csrf_token": csrf_token_in(form),
            "request_key": "b" * 32,
        })  # fmt: skip
        assert re.search(r"/my-apps/\d+$", made.url), made.text[-2000:]
        assert "Running" in settled(session, made.url), "the base template was not made"
        node = session.get(base + "/nodes/pve1").text
        assert "pve-manager/9.1.2" in node and "AMD EPYC" in node and "6.14.11-4-pve" in node
        user, mine = log_in_over_http(base, "user", "demo-user-pass")
        assert sorted(re.findall(r'<tr data-vmid="(\d+)">', mine.text)) == [
            "108",
            "118",
            "205",
            "208",
        ]
        # The plain user runs a Compose app in a VM and an app as an OCI container; each runs
        # once healthy, and its link opens the page the demo's stand-in serves.
        for app_id, runtime, name, shown in DEMO_DEPLOYS:
            page = deployed(user, base, app_id, runtime, name)
            assert "Running at 127.77." in page, page[-2000:]
            link = re.search(r'href="(http://127\.77\.[0-9.]+:\d+/)"', page).group(1)
            assert f"<h1>{shown}</h1>" in requests.get(link, timeout=5).text
        living_with_an_app(user, base, receiver)
        through_the_api(user, base, tmp_path)
    finally:
        os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        demo.wait(timeout=30)
        log.close()
    output = (tmp_path / "demo.log").read_text()
    assert "admin / demo-test-pass" in output and "user / demo-user-pass" in output
    leftovers = subprocess.run(
        ["pgrep", "-f", f"--port {pve_port}"], capture_output=True, text=True
    ).stdout
    assert leftovers == "", "fakepve still running after Ctrl-C"
    assert "Worker: 2 threads" in output  # make demo starts the job worker ...
    workers = subprocess.run(["pgrep", "-f", "wsgi worker"], capture_output=True, text=True)
    assert workers.stdout == "", "the job worker still running after Ctrl-C"  # ... and stops it

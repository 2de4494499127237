"""The benchmark's moving parts: the fake, the portal (gunicorn + job worker, and with Sentry
on, bench/envelopes.py as its endpoint), a logged-in client and the timings. Everything binds
to loopback."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import requests
from proxmoxer import ProxmoxAPI

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / os.environ.get("VENV", ".venv") / "bin"
sys.path.insert(0, str(ROOT / "scripts"))
from wait_for_port import wait_for_port  # noqa: E402

FAKE_HOST = "127.0.0.2"
TOKEN = secrets.token_urlsafe(24)
ADMIN_PASSWORD = "bench-admin-pw"  # noqa: S105 - a throwaway account in a temporary database


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """Stop a process started in its own session, and everything it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set size (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


class Fake:
    """bench/fake.py with a generated cluster, and what it can tell: request counts, floors."""

    def __init__(self, size: int, workdir: Path):
        self.size, self.workdir = size, workdir
        self.port, self.control = free_port(FAKE_HOST), free_port()
        self.cafile = str(workdir / "fakepve.crt")

    def __enter__(self) -> Fake:
        env = {**os.environ, "FAKEPVE_TOKEN_VALUE": TOKEN,
               "FAKEPVE_ROOT_PASSWORD": secrets.token_urlsafe(16)}  # fmt: skip
        self.process = subprocess.Popen(
            [BIN / "python", ROOT / "bench" / "fake.py", str(self.size), "--host", FAKE_HOST,
             "--port", str(self.port), "--control-port", str(self.control),
             "--pki-dir", str(self.workdir)],
            env=env, start_new_session=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        if not wait_for_port("127.0.0.1", self.control, 120):
            raise RuntimeError("fakepve did not start")
        return self

    def __exit__(self, *exc) -> None:
        stop(self.process)

    def served(self) -> int:
        """Requests the portal's web side made so far (the job worker has a token of its own)."""
        counts = requests.get(f"http://127.0.0.1:{self.control}/count", timeout=5).json()
        return counts.get("root@pam!portal", 0)

    def requests_for(self, action) -> int:
        """How many Proxmox requests the portal made for one action (it must succeed)."""
        before = self.served()
        response = action()
        response.raise_for_status()
        return self.served() - before

    def api(self) -> ProxmoxAPI:
        return ProxmoxAPI(FAKE_HOST, port=self.port, user="root@pam", token_name="portal",
                          token_value=TOKEN, verify_ssl=self.cafile)  # fmt: skip

    def floor(self, times: int, node: str, vmid: int) -> dict:
        """/cluster/resources fetched and decoded through proxmoxer, and each of the guest
        page's other calls on their own (the same as app/proxmox/guests.py makes)."""
        api = self.api()
        base = api.nodes(node).qemu(vmid)
        calls = {
            "cluster/resources": lambda: api.cluster.resources.get(),
            "status/current": lambda: base.status.current.get(),
            "config": lambda: base.config.get(),
            "snapshot": lambda: base.snapshot.get(),
            "rrddata": lambda: base.rrddata.get(timeframe="hour", cf="AVERAGE"),
            "tasks": lambda: api.nodes(node).tasks.get(vmid=vmid, limit=10),
        }
        medians = {name: median_ms(call, times) for name, call in calls.items()}
        slowest = max(medians, key=lambda name: medians[name])
        return {"cluster_resources_p50_ms": medians["cluster/resources"],
                "guest_page_slowest_call": slowest,
                "guest_page_slowest_call_p50_ms": medians[slowest],
                # fakepve answers one request at a time: what the six cost it in a row.
                "guest_page_calls_in_a_row_ms": round(sum(medians.values()), 1),
                "each_call_p50_ms": medians}  # fmt: skip


def median_ms(call, times: int) -> float:
    call()  # a warm connection, as the portal's
    durations = []
    for _ in range(times):
        start = time.perf_counter()
        call()
        durations.append(time.perf_counter() - start)
    return round(statistics.median(durations) * 1000, 1)


class Portal:
    """The portal under gunicorn.conf.py (and its job worker), on a fresh SQLite database."""

    def __init__(self, fake: Fake, workdir: Path, sentry: bool, database: str | None = None,
                 workers: int = 2):  # fmt: skip
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = database or f"sqlite:///{workdir}/portal.sqlite"
        self.env = {
            **os.environ, "SECRET_KEY": "bench-" + TOKEN, "DATABASE_URL": self.database,
            "PROXMOX_HOST": f"{FAKE_HOST}:{fake.port}", "PROXMOX_USER": "root@pam",
            "PROXMOX_TOKEN_NAME": "portal", "PROXMOX_TOKEN_VALUE": TOKEN, "PROXMOX_PASSWORD": "",
            "PROXMOX_VERIFY_SSL": fake.cafile, "PORT": str(self.port),
            "JOBS_URL": f"sqlite:///{workdir}/jobs.sqlite", "SENTRY_DSN": "",
            "SENTRY_ENVIRONMENT": "production", "FLASK_DEBUG": "0",
            # The concurrent-deploys scenario (bench/deploys.py): four deploys per user at once.
            "DEPLOYS_AT_ONCE": "4", "JOB_WORKERS": os.environ.get("JOB_WORKERS", "2"),
            "GUNICORN_WORKERS": str(workers),
        }  # fmt: skip
        self.sentry, self.first = sentry, database is None
        self.envelopes: subprocess.Popen | None = None
        self.log = open(workdir / f"portal-{self.port}.log", "w")  # noqa: SIM115

    def __enter__(self) -> Portal:
        if self.sentry:
            port = free_port()
            self.envelopes = self.start(BIN / "python", ROOT / "bench" / "envelopes.py", str(port))
            wait_for_port("127.0.0.1", port, 10)
            self.env["SENTRY_DSN"] = f"http://bench@127.0.0.1:{port}/1"
        if self.first:
            self.flask("init-db")
            self.flask("users", "create", "admin", "--role", "admin", "--password",
                       ADMIN_PASSWORD)  # fmt: skip
        self.gunicorn = self.start(BIN / "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app")
        self.worker = None
        if self.first:
            worker_env = {**self.env, "PROXMOX_TOKEN_NAME": "worker"}  # counted apart
            self.worker = self.start(BIN / "flask", "--app", "wsgi", "worker", env=worker_env)
        if not wait_for_port("127.0.0.1", self.port, 60):
            raise RuntimeError(f"the portal did not start; see {self.log.name}")
        return self

    def __exit__(self, *exc) -> None:
        for process in (self.gunicorn, self.worker, self.envelopes):
            if process is not None:
                stop(process)
        self.log.close()

    def flask(self, *args: str) -> None:
        subprocess.run([BIN / "flask", "--app", "wsgi", *args], env=self.env, cwd=ROOT,
                       check=True, stdout=self.log, stderr=self.log)  # fmt: skip

    def flask_output(self, *args: str) -> str:
        """What a flask command printed (e.g. a new API token)."""
        return subprocess.run([BIN / "flask", "--app", "wsgi", *args], env=self.env, cwd=ROOT,
                              check=True, capture_output=True, text=True).stdout  # fmt: skip

    def start(self, *command, env: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen(command, env=env or self.env, cwd=ROOT, start_new_session=True,
                                stdout=self.log, stderr=self.log)  # fmt: skip

    def log_in(self) -> requests.Session:
        session = requests.Session()
        form = session.get(self.url + "/login").text
        response = session.post(self.url + "/login", data={
            "csrf_token": csrf(form), "username": "admin", "password": ADMIN_PASSWORD,
        })  # fmt: skip
        response.raise_for_status()
        if response.url.endswith("/login"):
            raise RuntimeError("could not log in to the portal")
        return session

    def deploy_app(self, session: requests.Session, fake: Fake) -> str:
        """Deploy PostgreSQL (an OCI container) through the form and wait until it runs (its
        health probe answered by the demo's stand-in); its page."""
        form = session.get(self.url + "/apps/postgresql/deploy?runtime=oci").text
        response = session.post(self.url + "/apps/postgresql/deploy", data={
            "csrf_token": csrf(form), "request_key": uuid.uuid4().hex, "name": "bench-db",
            "node": "auto", "storage": "local-lvm", "cores": "1", "memory": "512", "disk": "4",
            "runtime": "oci", "input_postgres_user": "bench",
        })  # fmt: skip
        response.raise_for_status()
        path = response.url.removeprefix(self.url)
        if not re.fullmatch(r"/my-apps/\d+", path):
            raise RuntimeError(f"the deploy was not started: {response.url}")
        # Poll as the page does until it has run; the most Proxmox requests one poll made.
        self.deploy_poll, deadline = 0, time.monotonic() + 120
        started = time.monotonic()
        while True:
            before = fake.served()
            poll = session.get(self.url + path + "/progress")
            poll.raise_for_status()
            if "HX-Refresh" in poll.headers:
                self.one_deploy_seconds = time.monotonic() - started
                return path
            self.deploy_poll = max(self.deploy_poll, fake.served() - before)
            if time.monotonic() > deadline:
                raise RuntimeError("the benchmark's deploy did not finish")
            time.sleep(0.3)

    def poll_counts(self, session, fake: Fake, node: str, vmid: int) -> dict:
        """Proxmox requests for one poll of a task (the VM's start, or shutdown if it runs),
        and the most that one poll of the deploy made (deploy_app measured that)."""
        page = session.get(f"{self.url}/guests/{node}/qemu/{vmid}").text
        action = "start" if "/power/start" in page else "shutdown"
        response = session.post(f"{self.url}/guests/{node}/qemu/{vmid}/power/{action}", data={
            "csrf_token": csrf(page), "request_key": uuid.uuid4().hex,
        })  # fmt: skip
        response.raise_for_status()
        task = response.url.removeprefix(self.url)
        if not re.fullmatch(r"/tasks/\d+", task):
            raise RuntimeError(f"no task page after {action}: {response.url}")
        poll = fake.requests_for(lambda: session.get(self.url + task + "/progress?start=0"))
        return {"task_poll": poll, "deploy_poll": self.deploy_poll}

    def worker_peak_rss_mb(self) -> float:
        return max(peak_rss_mb(pid) for pid in children(self.gunicorn.pid))

    def job_worker_peak_rss_mb(self) -> float:
        assert self.worker is not None
        return max(peak_rss_mb(pid) for pid in [self.worker.pid, *children(self.worker.pid)])


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def measure(session: requests.Session, url: str, times: int) -> dict:
    """p50 / p95 over `times` requests, one after another, and the page's size."""
    durations, size = [], 0
    session.get(url)
    for _ in range(times):
        start = time.perf_counter()
        response = session.get(url)
        durations.append(time.perf_counter() - start)
        response.raise_for_status()
        size = len(response.content)
    durations.sort()
    return {"p50_ms": round(statistics.median(durations) * 1000, 1),
            "p95_ms": round(durations[int(len(durations) * 0.95) - 1] * 1000, 1),
            "bytes": size}  # fmt: skip


def sentry_on_off(fake: Fake, workdir: Path, database: str, pairs: int = 4) -> dict:
    """Dashboard requests/s with Sentry off and on, over `pairs` pairs of one-worker portals
    started afresh. Two processes running the same code differ by up to ±5 % on this machine
    (where each one's memory and hash tables happen to fall), the same size as what is
    measured; each pair is one draw of that, and the ratio is taken over all of them."""
    totals, pair_ratios = {"off": 0.0, "on": 0.0}, []
    for _ in range(pairs):
        with (
            Portal(fake, workdir, sentry=False, database=database, workers=1) as off,
            Portal(fake, workdir, sentry=True, database=database, workers=1) as on,
        ):
            pair = requests_per_second(off, on)
        totals["off"] += pair["off"]
        totals["on"] += pair["on"]
        pair_ratios.append(pair["ratio"])
    ratio = round(totals["on"] / totals["off"], 3)
    return {"off": round(totals["off"] / pairs, 1), "on": round(totals["on"] / pairs, 1),
            "ratio": ratio, "pair_ratios": pair_ratios}  # fmt: skip


def requests_per_second(off: Portal, on: Portal, rounds: int = 6, seconds: float = 1.0) -> dict:
    """Dashboard requests/s of two one-worker portals, without and with Sentry, one client
    each, in short turns that alternate (which goes first swaps every round), so that a
    slower moment of a shared machine falls on both alike. One worker and one client, because
    with two of each a client's kept-alive connection may share a worker with the other's
    while the second worker idles: that, not Sentry, moved the ratio between 0.6 and 1.2."""
    totals = {"off": 0, "on": 0}
    sessions = {"off": [off.log_in()], "on": [on.log_in()]}
    portals = {"off": off, "on": on}
    for name in portals:  # the worker's first requests (templates compiled, connections)
        _load(sessions[name], portals[name].url + "/", seconds)
    for number in range(rounds):
        for name in ("off", "on") if number % 2 == 0 else ("on", "off"):
            totals[name] += _load(sessions[name], portals[name].url + "/", seconds)
    return {"off": totals["off"] / (rounds * seconds), "on": totals["on"] / (rounds * seconds),
            "ratio": round(totals["on"] / totals["off"], 3)}  # fmt: skip


def _load(sessions: list[requests.Session], url: str, seconds: float) -> int:
    done = [0] * len(sessions)
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        while time.monotonic() < deadline:
            sessions[index].get(url).raise_for_status()
            done[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done)

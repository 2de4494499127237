"""A local Bugsink (a Sentry-compatible server) for the portal: `make bugsink-server`.

    python scripts/local_bugsink.py [--dir instance/bugsink] [--port 8000]

The first run writes bugsink_conf.py (Bugsink's local template: SQLite, no phoning home),
migrates, creates the login `admin` and a project "portal". Every run serves on
127.0.0.1:PORT and prints the project's DSN; Ctrl-C stops it. The end-to-end tests use the
same class. Bugsink lives in its own virtualenv (BUGSINK_VENV, default .venv-bugsink): its
Django and gunicorn pins differ from the portal's.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wait_for_port import wait_for_port  # noqa: E402 - a sibling script, not a package

ROOT = Path(__file__).resolve().parents[1]
API = "/api/canonical/0"
SETTINGS = """
# Added by scripts/local_bugsink.py
import os
BUGSINK["PHONEHOME"] = False
BUGSINK["INGEST_STORE_BASE_DIR"] = {ingest!r}
BUGSINK["BASE_URL"] = "http://127.0.0.1:" + os.environ["BUGSINK_PORT"]
"""


def bugsink_bin() -> Path:
    """The bin/ folder of the Bugsink virtualenv; a clear failure when it is missing."""
    venv = (ROOT / os.environ.get("BUGSINK_VENV", ".venv-bugsink")).resolve()
    if not (venv / "bin" / "bugsink-manage").exists():
        raise RuntimeError(
            f"Bugsink is not installed in {venv}: run `make bugsink` (it installs "
            "requirements-e2e.txt there) or set BUGSINK_VENV."
        )
    return venv / "bin"


class Bugsink:
    """One Bugsink server in `workdir`, with a project "portal" whose DSN the portal reports to."""

    def __init__(self, workdir: Path, port: int):
        self.workdir, self.port = workdir, port
        self.url = f"http://127.0.0.1:{port}"
        self.bin = bugsink_bin()
        self.env = {**os.environ, "BUGSINK_PORT": str(port)}
        self.process: subprocess.Popen | None = None
        self.token = ""
        self.project_id = 0
        self.dsn = ""

    def start(self) -> None:
        """Set up on first use, serve on 127.0.0.1, and find (or make) the project."""
        if not (self.workdir / "bugsink_conf.py").exists():
            self._set_up()
        self.token = (self.workdir / "api_token").read_text().strip()
        if wait_for_port("127.0.0.1", self.port, 0.1):
            raise RuntimeError(f"Port {self.port} is in use; choose another with --port.")
        with open(self.workdir / "server.log", "a") as log:  # the server keeps its own copy
            self.process = subprocess.Popen(
                [self.bin / "bugsink-manage", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if not wait_for_port("127.0.0.1", self.port, 60):
            self.stop()
            raise RuntimeError(f"Bugsink did not start: see {self.workdir / 'server.log'}")
        projects = self._get("/projects/")["results"]
        if not projects:
            team = self._post("/teams/", {"name": "portal"})
            self._post("/projects/", {"name": "portal", "team": team["id"]})
            projects = self._get("/projects/")["results"]
        self.project_id, self.dsn = projects[0]["id"], projects[0]["dsn"]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def events(self) -> list[dict]:
        """Every stored event of the project, with the full payload under "data"."""
        events = []
        for issue in self._get(f"/issues/?project={self.project_id}")["results"]:
            for summary in self._get(f"/events/?issue={issue['id']}")["results"]:
                events.append(self._get(f"/events/{summary['id']}/"))
        return events

    def wait_for_events(self, count: int, seconds: float = 30) -> list[dict]:
        """The project's events once there are at least `count`, or all there are by then."""
        deadline = time.monotonic() + seconds
        while True:
            events = self.events()
            if len(events) >= count or time.monotonic() > deadline:
                return events
            time.sleep(0.3)

    def _set_up(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._run(
            "bugsink-create-conf", "--template=local", f"--port={self.port}", "--host=127.0.0.1"
        )
        with open(self.workdir / "bugsink_conf.py", "a") as conf:
            conf.write(SETTINGS.format(ingest=str(self.workdir / "ingestion")))
        self._run("bugsink-manage", "migrate")
        password = os.environ.get("BUGSINK_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        self._run(
            "bugsink-manage",
            "createsuperuser",
            "--noinput",
            DJANGO_SUPERUSER_USERNAME="admin",
            DJANGO_SUPERUSER_PASSWORD=password,
            DJANGO_SUPERUSER_EMAIL="admin@example.invalid",
        )
        (self.workdir / "admin_password").write_text(password + "\n")
        token = self._run("bugsink-manage", "create_auth_token").strip().splitlines()[-1]
        (self.workdir / "api_token").write_text(token + "\n")

    def _run(self, command: str, *args: str, **env: str) -> str:
        result = subprocess.run(
            [self.bin / command, *args],
            cwd=self.workdir,
            env={**self.env, **env},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{command} {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def _get(self, path: str) -> dict:
        response = requests.get(self.url + API + path, headers=self._headers(), timeout=10)
        response.raise_for_status()
        return response.json()

    def _post(self, path: str, body: dict) -> dict:
        response = requests.post(
            self.url + API + path, json=body, headers=self._headers(), timeout=10
        )
        response.raise_for_status()
        return response.json()

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=str(ROOT / "instance" / "bugsink"))
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    workdir = Path(args.dir).resolve()
    try:
        server = Bugsink(workdir, args.port)
        server.start()
    except RuntimeError as exc:
        sys.exit(str(exc))
    password = (workdir / "admin_password").read_text().strip()
    print(
        f"\n  Bugsink: {server.url}  (log in as admin / {password})\n"
        f"  DSN of the project 'portal':\n\n    SENTRY_DSN={server.dsn}\n\n  Ctrl-C stops it.\n",
        flush=True,
    )
    try:
        server.process.wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()

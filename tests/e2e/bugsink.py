"""A real Bugsink (a Sentry-compatible server) on 127.0.0.1, and a reader for its API.

Bugsink lives in its own virtualenv (BUGSINK_VENV, default .venv-bugsink, made by
`make test`): its Django and gunicorn pins differ from the portal's.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import requests

from scripts.wait_for_port import wait_for_port

ROOT = Path(__file__).resolve().parents[2]
API = "/api/canonical/0"


def bugsink_bin() -> Path:
    """The bin/ folder of the Bugsink virtualenv; a clear failure when it is missing."""
    venv = (ROOT / os.environ.get("BUGSINK_VENV", ".venv-bugsink")).resolve()
    if not (venv / "bin" / "bugsink-manage").exists():
        raise RuntimeError(
            f"Bugsink is not installed in {venv}: run `make test` (it installs "
            "requirements-e2e.txt there) or set BUGSINK_VENV."
        )
    return venv / "bin"


class Bugsink:
    """One Bugsink server in `workdir`, with a single project whose DSN the portal reports to."""

    def __init__(self, workdir: Path, port: int):
        self.workdir, self.port = workdir, port
        self.url = f"http://127.0.0.1:{port}"
        self.bin = bugsink_bin()
        self.process: subprocess.Popen | None = None
        self.token = ""
        self.project_id = 0
        self.dsn = ""

    def start(self) -> None:
        """Configure (local template, SQLite, no phoning home), migrate, serve, make a project."""
        self._manage_setup()
        with open(self.workdir / "server.log", "w") as log:  # the server keeps its own copy
            self.process = subprocess.Popen(
                [self.bin / "bugsink-manage", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if not wait_for_port("127.0.0.1", self.port, 60):
            raise RuntimeError(f"Bugsink did not start: see {self.workdir / 'server.log'}")
        team = self._post("/teams/", {"name": "portal"})
        self._post("/projects/", {"name": "portal", "team": team["id"]})
        project = self._get("/projects/")["results"][0]
        self.project_id, self.dsn = project["id"], project["dsn"]

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def events(self) -> list[dict]:
        """Every stored event of the project, full payload under "data"."""
        events = []
        for issue in self._get(f"/issues/?project={self.project_id}")["results"]:
            for summary in self._get(f"/events/?issue={issue['id']}")["results"]:
                events.append(self._get(f"/events/{summary['id']}/"))
        return events

    def wait_for_events(self, count: int, seconds: float = 30) -> list[dict]:
        """The project's events once there are at least `count` (Bugsink digests eagerly)."""
        deadline = time.monotonic() + seconds
        while True:
            events = self.events()
            if len(events) >= count or time.monotonic() > deadline:
                return events
            time.sleep(0.3)

    def _manage_setup(self) -> None:
        def manage(*args: str, **env: str) -> str:
            result = subprocess.run(
                [self.bin / "bugsink-manage", *args],
                cwd=self.workdir,
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                check=True,
            )
            return result.stdout

        subprocess.run(
            [self.bin / "bugsink-create-conf", "--template=local", f"--port={self.port}",
             "--host=127.0.0.1"],
            cwd=self.workdir, check=True, capture_output=True,
        )  # fmt: skip
        with open(self.workdir / "bugsink_conf.py", "a") as conf:
            conf.write(
                'BUGSINK["PHONEHOME"] = False\n'
                f'BUGSINK["INGEST_STORE_BASE_DIR"] = "{self.workdir / "ingestion"}"\n'
            )
        manage("migrate")
        manage(
            "createsuperuser",
            "--noinput",
            DJANGO_SUPERUSER_USERNAME="admin",
            DJANGO_SUPERUSER_PASSWORD="bugsink-e2e-admin",
            DJANGO_SUPERUSER_EMAIL="admin@example.invalid",
        )
        self.token = manage("create_auth_token").strip().splitlines()[-1]

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

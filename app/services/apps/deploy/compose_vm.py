"""The steps that run a Compose app in its VM, through the guest agent: write the Compose file
and its `.env` (root-only), `docker compose up`, then wait until the app is healthy.

The `.env` holds the inputs, the generated secrets and the portal variables; it is the only
place a generated secret lives (never the portal's database, job storage, logs or Sentry):
a step that runs again reads it back rather than making new ones.
"""

from __future__ import annotations

import json
import secrets
import string
import time

from flask import current_app

from app.catalog import CatalogEntry, Health
from app.exceptions import AppServiceError
from app.models import AppStep
from app.services.apps.deploy import guest
from app.services.apps.deploy.context import Deploy

APP_DIR = "/opt/portal-app"  # mode 0700: the .env in it is root's only
COMPOSE_FILE = f"{APP_DIR}/compose.yaml"
ENV_FILE = f"{APP_DIR}/.env"
READY = ("running", "exited (0)")  # a one-off service (an init step) that ended well counts
PYTHON = "/usr/bin/python3"  # in every cloud image: cloud-init is written in Python
# Probe a port from inside the guest: an HTTP answer below 500 at the path, or (no path) a
# TCP connection. Arguments: host, port, path.
PROBE = """
import socket, sys, urllib.error, urllib.request
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if not path:
    socket.create_connection((host, port), 5).close()
    sys.exit(0)
try:
    urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=10)
except urllib.error.HTTPError as error:
    sys.exit(0 if error.code < 500 else f"HTTP {error.code}")
"""


def compose(*arguments: str) -> list[str]:
    """A `docker compose` command on the app's project."""
    return ["/usr/bin/docker", "compose", "--project-name", "app", "--project-directory",
            APP_DIR, "--file", COMPOSE_FILE, "--env-file", ENV_FILE, *arguments]  # fmt: skip


def files(deploy: Deploy, step: AppStep) -> None:
    """The app's folder, its Compose file and its .env (generated secrets made once)."""
    made = guest.run(deploy, ["/usr/bin/install", "-d", "-m", "0700", APP_DIR])
    if not made.ok:
        raise AppServiceError(f"Could not make {APP_DIR} in the VM: {made.said(deploy)}")
    existing = _existing_env(deploy)  # an update's (or a resumed step's)
    values = environment(deploy, _generated(deploy, existing), existing)
    guest.write_file(deploy, COMPOSE_FILE, deploy.compose)
    guest.write_file(deploy, ENV_FILE, env_text(values))
    step.detail = f"{COMPOSE_FILE} and {len(values)} settings in .env"


def up(deploy: Deploy, step: AppStep) -> None:
    """`docker compose up`: pull the images and start the services."""
    _generated(deploy)  # to blank them in what Compose says
    result = guest.run(deploy, compose("up", "--detach", "--quiet-pull", "--remove-orphans"))
    if not result.ok:
        raise AppServiceError(
            f"docker compose up exited with status {result.exitcode}: {result.said(deploy)}"
        )
    step.detail = "services started"


def health(deploy: Deploy, step: AppStep) -> None:
    """Until every service runs (healthy, when it has a healthcheck) and the health port
    answers inside the guest; else fail with their states and the last log lines."""
    _generated(deploy)
    check = _health_of(deploy.catalog)
    limit = min(check.timeout, float(current_app.config["DEPLOY_HEALTH_TIMEOUT"]))
    deadline = time.monotonic() + limit
    while True:
        states = service_states(deploy)
        waiting = [f"{name}: {state}" for name, state in states.items() if state not in READY]
        if states and not waiting:
            answer = guest.run(deploy, [PYTHON, "-c", PROBE, "127.0.0.1", str(check.port),
                                        check.path or ""])  # fmt: skip
            if answer.ok:
                step.detail = (
                    f"port {check.port} answers{' at ' + check.path if check.path else ''}"
                )
                return
            waiting = [f"port {check.port} does not answer"]
        if time.monotonic() > deadline:
            raise AppServiceError(
                f"The app was not healthy within {limit:g} s "
                f"({'; '.join(waiting) or 'no services'}).{_last_logs(deploy)}"
            )
        step.detail = "; ".join(waiting) or "waiting for the services"
        deploy.pause()


def _last_logs(deploy: Deploy) -> str:
    logs = guest.run(deploy, compose("logs", "--no-color", "--tail", "15")).said(deploy, 600)
    return f" Last log lines: {logs}" if logs else ""


def service_states(deploy: Deploy) -> dict[str, str]:
    """{service: "running" | "running (starting)" | "exited (1)" ...}; "running" alone only
    when it runs and, if it has a healthcheck, is healthy."""
    result = guest.run(deploy, compose("ps", "--all", "--format", "json"))
    if not result.ok:
        return {}
    states = {}
    for row in _json_rows(result.out.strip()):
        state, health = str(row.get("State", "")), str(row.get("Health", ""))
        if state == "running" and health not in ("", "healthy"):
            state = f"running ({health})"
        elif state == "exited":
            state = f"exited ({row.get('ExitCode', '?')})"
        states[str(row.get("Service", "?"))] = state
    return states


def _json_rows(text: str) -> list[dict]:
    """`compose ps --format json`: one array (Compose before 2.21), or a line per service."""
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def environment(
    deploy: Deploy, generated: dict[str, str], existing: dict[str, str] | None = None
) -> dict[str, str]:
    """Every variable the Compose file may use: inputs, generated secrets, portal variables.
    A typed secret the portal no longer holds (an update's) comes from the existing .env."""
    values, existing = deploy.values(), existing or {}
    found = {"PORTAL_APP_NAME": deploy.app.name, "PORTAL_APP_HOST": deploy.app.ip_address or ""}
    for item in deploy.catalog.inputs:
        if item.target == "env" and item.type != "generated":
            value = _text(values.get(item.name))
            if item.type == "secret" and not value:
                value = existing.get(item.variable, "")
            found[item.variable] = value
    return {**found, **generated}


def env_text(values: dict[str, str]) -> str:
    """A Compose .env file: single-quoted values are taken literally."""
    lines = ["# Written by the Proxmox portal: the app's settings. Root only."]
    for name, value in sorted(values.items()):
        if "'" in value or "\n" in value or "\r" in value:
            raise AppServiceError(f"The value of {name} cannot hold a quote or a line break.")
        lines.append(f"{name}='{value}'")
    return "\n".join(lines) + "\n"


def parse_env(text: str) -> dict[str, str]:
    """The variables of a .env file env_text wrote."""
    found = {}
    for line in text.splitlines():
        name, equals, value = line.partition("=")
        if equals and not name.startswith("#"):
            found[name.strip()] = value.strip().removeprefix("'").removesuffix("'")
    return found


def generated_secrets(entry: CatalogEntry, env: dict[str, str]) -> dict[str, str]:
    """{label: value} of the app's generated secrets found in its environment."""
    return {
        i.label: env[i.variable]
        for i in entry.inputs
        if i.type == "generated" and i.variable in env
    }


def new_secret(length: int) -> str:
    """A random value of letters and digits (safe in URLs, YAML and shells)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _existing_env(deploy: Deploy) -> dict[str, str]:
    """The guest's .env as it is (empty when there is none yet); its secrets are blanked in
    anything shown from now on."""
    app = deploy.app
    existing = parse_env(guest.read_file(deploy.client, app.node, deploy.vmid, ENV_FILE) or "")
    secret = {i.variable for i in deploy.catalog.inputs if i.is_secret}
    deploy.add_secrets({name: value for name, value in existing.items() if name in secret})
    return existing


def _generated(deploy: Deploy, existing: dict[str, str] | None = None) -> dict[str, str]:
    """The generated secrets by variable: those in the guest's .env, new ones for the rest.
    They join the deploy's secrets, to be blanked in anything shown."""
    items = [i for i in deploy.catalog.inputs if i.type == "generated"]
    if not items:
        return {}
    existing = _existing_env(deploy) if existing is None else existing
    found = {i.variable: existing.get(i.variable) or new_secret(i.length) for i in items}
    deploy.add_secrets({i.name: found[i.variable] for i in items})
    return found


def _health_of(entry: CatalogEntry) -> Health:
    if entry.health is None:
        raise AppServiceError(f"{entry.name} has no health check in the catalog.")
    return entry.health


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


RUN = {"files": files, "up": up, "health": health}

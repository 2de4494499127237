"""An app's own logs, on demand: `docker compose logs` in its VM through the guest agent, for
its owner and admins, its secrets blanked."""

from __future__ import annotations

from app.services.apps.deploy.compose_vm import ENV_FILE, compose, parse_env
from tests.conftest import log_in
from tests.deploys.conftest import POSTGRES_FORM, WORDPRESS_FORM, apps_in

LOGS = " ".join(compose("logs", "--no-color", "--timestamps", "--tail", "200"))


def test_the_owner_reads_the_apps_logs_with_its_secrets_blanked(app, pve):
    client = log_in(app, "bob", "user")
    client.post("/apps/wordpress/deploy", data={**WORDPRESS_FORM, "request_key": "a" * 32})
    [row] = apps_in(app)
    vm = pve.vm(row.vmid)
    env = [
        a["content"] for c, a in vm.agent_requests if c == "file-write" and a["file"] == ENV_FILE
    ]
    password = parse_env(env[-1])["DB_PASSWORD"]
    said = f"db-1 | 2026-12-04T10:00:00Z ready; password {password}\nwordpress-1 | started\n"
    vm.agent.setdefault("exec", {})[LOGS] = {"exitcode": 0, "out-data": said}
    assert 'action="/my-apps/1/logs"' in client.get("/my-apps/1").get_data(as_text=True)
    page = client.post("/my-apps/1/logs")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "wordpress-1 | started" in text and "password ********" in text
    assert password not in text
    assert log_in(app, "carol", "user").post("/my-apps/1/logs").status_code == 404


def test_an_oci_container_has_no_logs_api_and_says_so(app, pve):
    client = log_in(app, "bob", "user")
    client.post("/apps/postgresql/deploy", data={**POSTGRES_FORM, "request_key": "a" * 32})
    response = client.post("/my-apps/1/logs")
    flashed = client.get(response.location).get_data(as_text=True)
    assert "Proxmox has no API to read an OCI container" in flashed

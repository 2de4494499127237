"""Deploys against fakepve: a Compose app in a VM and an app as an OCI container reach running
only once their health checks pass, and their links answer; a failure at each step leaves no
guest behind, marks the app failed and sends exactly one Sentry event; secrets (typed or
generated) are never stored, shown or sent."""

from __future__ import annotations

import json
import socket

import pytest
import requests
from sqlalchemy import text

from app.extensions import db
from app.services.apps.deploy.compose_vm import COMPOSE_FILE, ENV_FILE, parse_env
from tests.conftest import assert_no_secrets, log_in
from tests.deploys.conftest import POSTGRES_FORM, WORDPRESS_FORM, apps_in, cluster_names

CATALOG_WORDPRESS = "catalog/wordpress/compose.yaml"


def deploy(client, app_id: str, form: dict, key: str = "a" * 32):
    return client.post(f"/apps/{app_id}/deploy", data={**form, "request_key": key})


def files_of(vm) -> dict[str, str]:
    """The files the portal wrote into a VM through its guest agent."""
    return {a["file"]: a["content"] for c, a in vm.agent_requests if c == "file-write"}


def commands_of(vm) -> list[list[str]]:
    return [asked["command"] for command, asked in vm.agent_requests if command == "exec"]


def test_a_compose_vm_app_runs_once_healthy_and_its_link_answers(app, pve):
    from app.config import PROJECT_ROOT

    client = log_in(app, "bob", "user")
    response = deploy(client, "wordpress", WORDPRESS_FORM)
    assert response.status_code == 302 and response.headers["Location"] == "/my-apps/1"
    [row] = apps_in(app)
    assert row.status == "running" and row.error is None and row.user.username == "bob"
    assert [s.name for s in row.steps] == [
        "reserve", "clone", "configure", "resize", "start", "wait", "files", "up", "health",
        "finish",
    ]  # fmt: skip
    assert {s.status for s in row.steps} == {"done"}
    vm = pve.vm(row.vmid)
    assert (vm.node, vm.name, vm.status) == ("pve2", "blog", "running")  # the base template's
    assert int(vm.config["cores"]) == 2 and "size=20G" in vm.config["scsi0"]
    assert set(vm.config["tags"].split(";")) == {"portal-app", "wordpress"}
    assert vm.config["ciuser"] == "admin" and vm.config["ipconfig0"] == "ip=dhcp"
    written = files_of(vm)
    assert written[COMPOSE_FILE] == (PROJECT_ROOT / CATALOG_WORDPRESS).read_text()
    env = parse_env(written[ENV_FILE])
    assert env["PORTAL_APP_NAME"] == "blog" and env["PORTAL_APP_HOST"] == row.ip_address
    assert len(env["DB_PASSWORD"]) == 32 and env["DB_PASSWORD"].isalnum()
    commands = commands_of(vm)
    assert commands[0] == ["/usr/bin/install", "-d", "-m", "0700", "/opt/portal-app"]
    assert [c for c in commands if "up" in c][0][-3:] == ["--detach", "--quiet-pull",
                                                          "--remove-orphans"]  # fmt: skip
    probes = [c for c in commands if c[0] == "/usr/bin/python3"]
    assert probes and probes[-1][3:] == ["127.0.0.1", "8080", "/wp-admin/install.php"]
    assert row.outputs[0] == {
        "label": "Website", "value": f"http://{row.ip_address}:8080/", "kind": "url"
    }  # fmt: skip
    page = client.get("/my-apps/1").get_data(as_text=True)
    assert f'href="http://{row.ip_address}:8080/"' in page and "running" in page
    answer = requests.get(row.outputs[0]["value"], timeout=5)  # the demo's stand-in
    assert answer.status_code == 200 and "<h1>WordPress</h1>" in answer.text


def test_an_oci_app_runs_as_a_container_with_its_environment_and_data_volume(app, pve):
    client = log_in(app, "bob", "user")
    assert deploy(client, "postgresql", POSTGRES_FORM).status_code == 302
    [row] = apps_in(app)
    assert row.status == "running", row.error
    assert row.guest_type == "lxc" and row.inputs == {"postgres_user": "app"}
    assert [s.name for s in row.steps] == [
        "reserve", "pull", "create", "configure", "environment", "start", "wait", "probe",
        "finish",
    ]  # fmt: skip
    ct = pve.ct(row.vmid)
    assert "local:vztmpl/postgres_18.6.tar" in pve.oci_images
    env = dict(item.split("=", 1) for item in ct.config["env"].split("\0"))
    assert env["POSTGRES_USER"] == "app" and env["PATH"].startswith("/usr/local/sbin")
    assert len(env["POSTGRES_PASSWORD"]) == 32  # generated; the image's PATH kept
    assert ct.config["mp0"].endswith("size=6G") and "mp=/var/lib/postgresql" in ct.config["mp0"]
    assert "size=2G" in ct.config["rootfs"]  # a quarter of the 8 GiB asked for
    assert row.outputs == [{"label": "Connection", "kind": "text",
                            "value": f"postgresql://app@{row.ip_address}:5432/app"}]  # fmt: skip
    # A second deploy of the same image reuses the pulled file.
    assert (
        deploy(client, "postgresql", {**POSTGRES_FORM, "name": "db2"}, "b" * 32).status_code == 302
    )
    second = apps_in(app)[1]
    assert second.status == "running", second.error
    pull = next(s for s in second.steps if s.name == "pull")
    assert pull.status == "skipped" and "postgres_18.6.tar is there already" in pull.detail


def test_before_proxmox_9_1_the_form_offers_only_the_vm_and_says_why(app, pve):
    pve.version, pve.release_version = "8.4.14", "8.4"
    client = log_in(app, "bob", "user")
    page = client.get("/apps/postgresql").get_data(as_text=True)
    assert "OCI containers need Proxmox VE 9.1 or later; this cluster runs 8.4." in page
    assert 'href="/apps/postgresql/deploy?runtime=vm"' in page
    refused = deploy(client, "postgresql", POSTGRES_FORM)
    assert refused.status_code == 400 and apps_in(app) == []
    assert "OCI containers need Proxmox VE 9.1" in refused.get_data(as_text=True)


def test_the_reserve_step_names_the_vmid_it_reserved(app, pve):
    client = log_in(app, "bob", "user")
    deploy(client, "postgresql", POSTGRES_FORM)
    [row] = apps_in(app)
    reserve = next(s for s in row.steps if s.name == "reserve")
    assert row.vmid is not None and reserve.detail == f"VMID {row.vmid}"
    assert f"VMID {row.vmid}" in client.get("/my-apps/1").get_data(as_text=True)


def test_two_deploys_offered_the_same_vmid_get_different_ones(app, pve):
    """/cluster/nextid reserves nothing: a VMID held by a deploy that has not cloned yet is
    offered again, and a guest made outside the portal may take the id before the clone."""
    from app.models import App

    client = log_in(app, "bob", "user")
    with app.app_context():  # a deploy that reserved 101 and has not cloned yet
        db.session.add(App(
            request_key="x" * 32, catalog_id="postgresql", name="other", user_id=1,
            guest_type="lxc", node="pve1", storage="local-lvm", vmid=101, status="deploying",
            cores=1, memory=512, disk=4, inputs={}, outputs=[], attempts=1,
            lease_until=db.func.datetime("now", "+1 hour"),
        ))  # fmt: skip
        db.session.commit()
    pve.fail("POST", "/nodes/pve2/qemu/9100/clone", error="unable_create_config_file_already",
             times=1)  # fmt: skip
    assert deploy(client, "wordpress", WORDPRESS_FORM).status_code == 302
    mine = apps_in(app)[1]
    assert mine.status == "running", mine.error
    assert mine.vmid == 103  # 101 held by the other deploy, 102 taken meanwhile in Proxmox


COMPOSE_UP = "up --detach --quiet-pull --remove-orphans"
FAILURES = {  # step: (the app and how it fails, what the error says, its error type)
    "clone": ("wordpress", ("POST", "/nodes/pve2/qemu/9100/clone", {"error": "clone_failed"}),
              "clone failed: unexpected error", "proxmox"),
    "resize": ("wordpress", ("PUT", "/resize", {"error": "internal_error"}), "internal error",
               "proxmox"),
    "start": ("wordpress", ("POST", "/status/start", {"error": "start_failed"}),
              "start failed: unexpected error", "proxmox"),
    "up": ("wordpress", {COMPOSE_UP: {"exitcode": 1, "err-data": "pull access denied for "
                                      "mysql, password {secret}"}},
           "docker compose up exited with status 1: pull access denied", "app_service"),
    "health": ("wordpress", {"ps --all --format json": {"exitcode": 0, "out-data": json.dumps(
        {"Service": "db", "State": "running", "Health": "unhealthy"})}},
        "The app was not healthy within 2 s (db: running (unhealthy))", "app_service"),
    "pull": ("postgresql", ("POST", "/oci-registry-pull", {"status": 500, "message":
             "failed to pull docker.io/library/postgres:18.6: requested access is denied"}),
             "requested access is denied", "proxmox"),
    "probe": ("postgresql", None, "The app did not answer on port 5432 within 2 s", "app_service"),
}  # fmt: skip


@pytest.mark.parametrize("step", FAILURES)
def test_a_failing_step_leaves_nothing_behind_and_sends_one_event(sentry, pve, step, monkeypatch):
    app, transport = sentry()
    catalog_id, fault, expected, error_type = FAILURES[step]
    before = cluster_names(pve)
    client = log_in(app, "bob", "user")
    if isinstance(fault, tuple):
        method, suffix, options = fault
        pve.fail(method, suffix, **options)
    elif isinstance(fault, dict):
        script_exec(pve, fault)
    else:  # the container answers nobody: no stand-in on its port
        monkeypatch.setattr(type(pve.responders), "serve", _no_responder)
    form = WORDPRESS_FORM if catalog_id == "wordpress" else POSTGRES_FORM
    assert deploy(client, catalog_id, form).status_code == 302
    [row] = apps_in(app)
    assert row.status == "failed" and expected in row.error, row.error
    assert "The half-made guest was removed." in row.error or step in ("clone", "pull")
    assert [s.name for s in row.steps if s.status == "failed"] == [step]
    assert cluster_names(pve) == before  # no orphaned guest
    events = transport.events()
    assert len(events) == 1, [e["exception"]["values"][-1]["value"] for e in events]
    event = events[0]
    assert event["tags"]["error_type"] == error_type and event["tags"]["deploy_step"] == step
    assert event["user"]["username"] == "bob" and event["tags"]["user_role"] == "user"
    context = event["contexts"]["app_deploy"]
    assert (context["app_id"], context["catalog_id"], context["step"]) == (1, catalog_id, step)
    assert f"{step}: failed" in context["steps"]
    crumbs = [c["message"] for c in event["breadcrumbs"]["values"] if c["category"] == "deploy"]
    if step != "health":  # its polling fills the ring of 100 breadcrumbs with Proxmox calls
        # Every step from the first: no query breadcrumbs crowd them out of the 100 places.
        assert crumbs[0] == f"{row.steps[0].name} started"
        assert crumbs[-1] == f"{step} started"
    assert row.error_reference == event["event_id"]
    assert_no_secrets(transport.payloads(), generated_secrets(pve))
    assert "{secret}" not in row.error and all(s not in row.error for s in generated_secrets(pve))
    page = client.get("/my-apps/1").get_data(as_text=True)
    assert "Deploy again" in page and row.error_reference in page
    runtime = "oci" if catalog_id == "postgresql" else "vm"
    assert f'href="/apps/{catalog_id}/deploy?again=1&amp;runtime={runtime}"' in page


async def _no_responder(self, host, port, vmid):
    return None


def script_exec(pve, answers: dict) -> None:
    """The guest agent answers these commands (matched by their end) as given; `{secret}` in
    an answer becomes the deploy's generated password, as a real app might print it."""
    original = type(pve)._agent_call

    async def scripted(fake, match, values):
        answer = await original(fake, match, values)
        if match.template.endswith("exec"):
            vm = fake.find(values["node"], values["vmid"])
            argv = " ".join(vm.agent_execs[answer["pid"]])
            secret = parse_env(vm.agent.get("files", {}).get(ENV_FILE, "")).get("DB_PASSWORD", "")
            for ending, result in answers.items():
                if argv.endswith(ending):
                    text = {k: str(v).replace("{secret}", secret) for k, v in result.items()}
                    vm.agent.setdefault("exec", {})[argv] = text
        return answer

    pve._agent_call = scripted.__get__(pve)


def generated_secrets(pve) -> list[str]:
    """Every generated secret the portal wrote into a guest (VM .env files, container env)."""
    found = []
    for vm in pve.vms:
        for content in files_of(vm).values():
            found += [v for k, v in parse_env(content).items() if k.endswith("PASSWORD")]
    for ct in pve.cts:
        found += [i.split("=", 1)[1] for i in str(ct.config.get("env", "")).split("\0")
                  if i.split("=", 1)[0].endswith("PASSWORD")]  # fmt: skip
    return found


def test_keep_for_inspection_leaves_the_guest_stopped_tagged_and_assigned(app, pve):
    client = log_in(app, "bob", "user")
    pve.fail("POST", "/status/start", error="start_failed")
    response = deploy(client, "wordpress", {**WORDPRESS_FORM, "keep_on_failure": "y"})
    assert response.status_code == 302
    [row] = apps_in(app)
    assert row.status == "failed" and "kept, stopped, for inspection" in row.error
    vm = pve.vm(row.vmid)
    assert vm.status == "stopped" and "portal-failed" in vm.config["tags"]
    assert client.get(f"/guests/pve2/qemu/{row.vmid}").status_code == 200


def test_a_guest_agent_that_never_answers_fails_the_deploy_in_time(sentry, pve):
    app, transport = sentry()
    pve.guest_agents = False  # a template without qemu-guest-agent
    client = log_in(app, "bob", "user")
    assert deploy(client, "wordpress", WORDPRESS_FORM).status_code == 302
    [row] = apps_in(app)
    assert row.status == "failed" and "gave no IPv4 address within 2 s" in row.error
    assert "blog" not in cluster_names(pve)
    assert len(transport.events()) == 1


def test_secrets_are_never_stored_shown_or_audited(app, pve):
    client = log_in(app, "bob", "user")
    deploy(client, "wordpress", WORDPRESS_FORM)
    deploy(client, "postgresql", POSTGRES_FORM, key="b" * 32)
    secrets = generated_secrets(pve)
    assert len(secrets) == 2  # the VM's database password, the container's superuser's
    with app.app_context():
        tables = ("apps", "app_steps", "tasks", "audit_log")
        dump = [list(db.session.execute(text(f"SELECT * FROM {table}"))) for table in tables]
    stored = json.dumps(dump, default=str)
    for secret in secrets:
        assert secret not in stored
        for page in ("/my-apps/1", "/my-apps/2", "/my-apps", "/audit", "/tasks"):
            assert secret not in client.get(page).get_data(as_text=True)
    assert all(row.sealed_secrets is None for row in apps_in(app))


def test_the_owner_sees_generated_secrets_read_from_the_guest_when_asking(app, pve):
    client = log_in(app, "bob", "user")
    deploy(client, "wordpress", WORDPRESS_FORM)
    deploy(client, "postgresql", POSTGRES_FORM, key="b" * 32)
    vm_secret, ct_secret = generated_secrets(pve)
    assert "Show generated secrets" in client.get("/my-apps/1").get_data(as_text=True)
    for number, secret, label in ((1, vm_secret, "Database password"),
                                  (2, ct_secret, "Superuser password")):  # fmt: skip
        shown = client.post(f"/my-apps/{number}/secrets")
        assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
        page = shown.get_data(as_text=True)
        assert f"<dt>{label}</dt><dd><code>{secret}</code></dd>" in page
    assert log_in(app, "carol", "user").post("/my-apps/1/secrets").status_code == 404
    with app.app_context():
        stored = json.dumps([list(db.session.execute(text(f"SELECT * FROM {t}")))
                             for t in ("apps", "audit_log")], default=str)  # fmt: skip
    assert vm_secret not in stored and ct_secret not in stored and "show-secrets" in stored


def test_an_oci_app_the_portal_cannot_reach_runs_and_says_so(app, pve, monkeypatch):
    """No route from the portal to the container's network: connections time out (modelled
    on loopback by a listener whose queue is full). The app runs; its page says why the
    portal could not check it."""
    holes = []

    async def black_hole(self, host, port, vmid):
        listener = socket.socket()
        listener.bind((host, port))
        listener.listen(0)
        filler = socket.create_connection((host, port))  # fills the queue: SYNs are dropped
        holes.extend((listener, filler))

    monkeypatch.setattr(type(pve.responders), "serve", black_hole)
    client = log_in(app, "bob", "user")
    assert deploy(client, "postgresql", POSTGRES_FORM).status_code == 302
    [row] = apps_in(app)
    assert row.status == "running", row.error
    probe = next(s for s in row.steps if s.name == "probe")
    assert probe.status == "skipped" and probe.detail == "running, not reachable from the portal"
    assert "running, not reachable from the portal" in client.get("/my-apps/1").get_data(True)
    for hole in holes:
        hole.close()

"""Deploys against fakepve: a VM app and a container app to running; a failure at each step
leaves no guest behind, marks the app failed and sends exactly one Sentry event; secrets
are never stored, shown or sent."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.conftest import assert_no_secrets, log_in
from tests.deploys.conftest import WORDPRESS_FORM, apps_in, cluster_names

SECRET = WORDPRESS_FORM["input_admin_password"]
NGINX_FORM = {
    "name": "site", "node": "auto", "storage": "local-lvm", "cores": "1", "memory": "512",
    "disk": "4", "input_root_password": "Ct-root-pass-77",
    "input_ssh_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0"
                     "dh2l9GKJl me@laptop",
}  # fmt: skip


def deploy(client, app_id: str, form: dict, key: str = "a" * 32):
    return client.post(f"/apps/{app_id}/deploy", data={**form, "request_key": key})


def test_a_vm_app_deploys_to_running_with_its_outputs(app, pve):
    client = log_in(app, "bob", "user")
    response = deploy(client, "wordpress", WORDPRESS_FORM)
    assert response.status_code == 302 and response.headers["Location"] == "/my-apps/1"
    [row] = apps_in(app)
    assert row.status == "running" and row.error is None and row.user.username == "bob"
    assert [s.status for s in row.steps] == ["done"] * 8
    vm = pve.vm(row.vmid)
    assert (vm.node, vm.name, vm.status) == ("pve2", "blog", "running")  # the template's node
    assert int(vm.config["cores"]) == 2 and int(vm.config["memory"]) == 2048
    assert "size=20G" in vm.config["scsi0"]  # grown from the template's 16G
    assert set(vm.config["tags"].split(";")) == {"portal-app", "wordpress"}
    assert "bob" in vm.config["description"]
    assert vm.config["ciuser"] == "admin" and vm.config["ipconfig0"] == "ip=dhcp"
    execs = [asked["command"] for command, asked in vm.agent_requests if command == "exec"]
    assert execs == [
        ["/usr/bin/apt-get", "install", "-y", "wordpress", "mariadb-server"],
        ["/usr/local/sbin/portal-wordpress-setup", "--title", "Our blog"],
    ]
    assert row.ip_address == f"127.77.0.{row.vmid}"
    assert row.outputs[0] == {
        "label": "Website", "value": f"http://{row.ip_address}/", "kind": "url"
    }  # fmt: skip
    page = client.get("/my-apps/1").get_data(as_text=True)
    assert f'href="http://{row.ip_address}/"' in page and "running" in page
    assert "Shut down" in page  # the guest page's buttons
    assert client.get(f"/guests/pve2/qemu/{row.vmid}").status_code == 200  # it is bob's


def test_the_reserve_step_names_the_vmid_it_reserved(app, pve):
    client = log_in(app, "bob", "user")
    deploy(client, "nginx", NGINX_FORM)
    [row] = apps_in(app)
    reserve = next(s for s in row.steps if s.name == "reserve")
    assert row.vmid is not None and reserve.detail == f"VMID {row.vmid}"
    assert f"VMID {row.vmid}" in client.get("/my-apps/1").get_data(as_text=True)


def test_a_container_app_deploys_to_running_with_its_outputs(app, pve):
    client = log_in(app, "bob", "user")
    assert deploy(client, "nginx", NGINX_FORM).status_code == 302
    [row] = apps_in(app)
    assert row.status == "running", row.error
    assert [s.name for s in row.steps] == [
        "reserve", "create", "configure", "start", "wait", "finish"
    ]  # fmt: skip
    ct = pve.ct(row.vmid)
    assert ct.config["hostname"] == "site" and ct.status == "running"
    assert ct.config["rootfs"].startswith("local-lvm:") and "size=4G" in ct.config["rootfs"]
    assert set(ct.config["tags"].split(";")) == {"portal-app", "nginx"}
    website = {"label": "Website", "value": f"http://{row.ip_address}/", "kind": "url"}
    assert row.outputs == [website]
    assert row.inputs == {"ssh_key": NGINX_FORM["input_ssh_key"]}  # the password is not kept


def test_two_deploys_offered_the_same_vmid_get_different_ones(app, pve):
    """/cluster/nextid reserves nothing: a VMID held by a deploy that has not cloned yet is
    offered again, and a guest made outside the portal may take the id before the clone."""
    from app.models import App

    client = log_in(app, "bob", "user")
    with app.app_context():  # a deploy that reserved 101 and has not cloned yet
        db.session.add(App(
            request_key="x" * 32, catalog_id="nginx", name="other", user_id=1,
            guest_type="lxc", node="pve1", storage="local-lvm", vmid=101, status="deploying",
            cores=1, memory=512, disk=4, inputs={}, outputs=[], attempts=1,
            lease_until=db.func.datetime("now", "+1 hour"),
        ))  # fmt: skip
        db.session.commit()
    pve.fail("POST", "/nodes/pve2/qemu/9001/clone", error="unable_create_config_file_already",
             times=1)  # fmt: skip
    assert deploy(client, "wordpress", WORDPRESS_FORM).status_code == 302
    mine = apps_in(app)[1]
    assert mine.status == "running", mine.error
    assert mine.vmid == 103  # 101 held by the other deploy, 102 taken meanwhile in Proxmox


FAILURES = {
    "clone": ("POST", "/nodes/pve2/qemu/9001/clone", {"error": "clone_failed"},
              "clone failed: unexpected error", "proxmox"),
    "resize": ("PUT", "/resize", {"error": "internal_error"}, "internal error", "proxmox"),
    "start": ("POST", "/status/start", {"error": "start_failed"},
              "start failed: unexpected error", "proxmox"),
}  # fmt: skip


@pytest.mark.parametrize("step", [*FAILURES, "provision"])
def test_a_failing_step_leaves_nothing_behind_and_sends_one_event(sentry, pve, step):
    app, transport = sentry()
    before = cluster_names(pve)
    client = log_in(app, "bob", "user")
    if step == "provision":
        expected, error_type = "Provisioning command 2", "app_service"
    else:
        method, suffix, fault, expected, error_type = FAILURES[step]
        pve.fail(method, suffix, **fault)
    with exec_failing(pve, step == "provision"):
        assert deploy(client, "wordpress", WORDPRESS_FORM).status_code == 302
    [row] = apps_in(app)
    assert row.status == "failed" and expected in row.error
    assert "The half-made guest was removed." in row.error or step == "clone"
    assert [s.name for s in row.steps if s.status == "failed"] == [step]
    assert cluster_names(pve) == before  # no orphaned guest
    events = transport.events()
    assert len(events) == 1, [e["exception"]["values"][-1]["value"] for e in events]
    event = events[0]
    assert event["tags"]["error_type"] == error_type and event["tags"]["deploy_step"] == step
    assert event["user"]["username"] == "bob" and event["tags"]["user_role"] == "user"
    context = event["contexts"]["app_deploy"]
    assert (context["app_id"], context["catalog_id"], context["step"]) == (1, "wordpress", step)
    assert context["node"] == "pve2" and (context["vmid"] or 0) > 100
    crumbs = [c["message"] for c in event["breadcrumbs"]["values"] if c["category"] == "deploy"]
    assert crumbs[-1] == f"{step} started"
    assert context["steps"][0] == "reserve: done" and f"{step}: failed" in context["steps"]
    assert row.error_reference == event["event_id"]
    assert_no_secrets(transport.payloads(), [SECRET])
    page = client.get("/my-apps/1").get_data(as_text=True)
    assert "Deploy again" in page and row.error_reference in page


class exec_failing:
    """The guest agent answers exit status 3 to the second provisioning command."""

    def __init__(self, pve, active: bool):
        self.pve, self.active = pve, active
        self.original = type(pve)._agent_call

    def __enter__(self):
        if self.active:
            original = self.original

            async def failing(fake, match, values):
                answer = await original(fake, match, values)
                vm = fake.find(values["node"], values["vmid"])
                vm.agent.setdefault("exec", {})[
                    "/usr/local/sbin/portal-wordpress-setup --title Our blog"
                ] = {"exitcode": 3, "err-data": f"setup failed (password {SECRET})"}
                return answer

            self.pve._agent_call = failing.__get__(self.pve)
        return self

    def __exit__(self, *exc):
        self.pve.__dict__.pop("_agent_call", None)


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


def test_a_guest_agent_that_never_answers_fails_the_deploy_in_time(app, pve):
    pve.guest_agents = False  # a template without qemu-guest-agent
    client = log_in(app, "bob", "user")
    assert deploy(client, "wordpress", WORDPRESS_FORM).status_code == 302
    [row] = apps_in(app)
    assert row.status == "failed" and "gave no IPv4 address within 2 s" in row.error
    assert "blog" not in cluster_names(pve)


def test_secrets_are_never_stored_shown_or_audited(app, pve):
    client = log_in(app, "bob", "user")
    deploy(client, "wordpress", WORDPRESS_FORM)
    deploy(client, "nginx", NGINX_FORM, key="b" * 32)
    with app.app_context():
        tables = ("apps", "app_steps", "tasks", "audit_log")
        dump = [list(db.session.execute(text(f"SELECT * FROM {table}"))) for table in tables]
    stored = json.dumps(dump, default=str)
    for secret in (SECRET, NGINX_FORM["input_root_password"]):
        assert secret not in stored
        for page in ("/my-apps/1", "/my-apps/2", "/my-apps", "/audit", "/tasks"):
            assert secret not in client.get(page).get_data(as_text=True)
    assert all(row.sealed_secrets is None for row in apps_in(app))  # wiped when it ended
    # ...but they reached Proxmox: the container's password, the VM's cloud-init password.
    assert pve.vm(apps_in(app)[0].vmid).config.get("cipassword")

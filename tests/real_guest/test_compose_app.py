"""A catalog app deployed end to end into a real VM: the portal under gunicorn and its job
worker deploy linkding (a Compose app with a generated secret) through the demo's fake
Proxmox, whose clone of the base template is a real Debian 13 VM under QEMU. Real cloud-init
(from a seed ISO the portal's own builder made, as PVE's cloud-init drive would be), real
agent file-write and exec, real `docker compose up`, the health check passing inside the
guest, and the app's link answering through QEMU's port forward.

No image registry is reachable here: before the VM's agent is reported to the portal, the test
puts a stand-in under the app's image name (`docker import` of a busybox web server), which
Compose then uses instead of pulling. Run with `make real-guest-test`."""

from __future__ import annotations

import re
import sqlite3
import time
import uuid

import pytest
import requests

from app.cloudinit import meta_data, seed_iso
from app.services.apps.deploy.compose_vm import APP_DIR, ENV_FILE, parse_env
from scripts.fakepve_demo import lease_address
from tests.conftest import USER_PASSWORD, csrf_token_in, free_port
from tests.deploys.conftest import served
from tests.e2e.conftest import start_portal
from tests.real_guest.bridge import RealGuestPve
from tests.real_guest.guest import Guest, phase

NAME, VMID = "links", 100  # the fake gives the first deploy VMID 100
IMAGE = "sissbruecker/linkding:1.46.2"  # catalog/linkding/compose.yaml
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test"
CLUSTER = {
    "nodes": ["pve1"],
    "guests": [{"vmid": 9100, "name": "portal-debian-13", "node": "pve1", "template": True,
                "config": {"cores": 1, "memory": "1024", "agent": "1", "tags": "portal-base",
                           "scsi0": "local-lvm:base-9100-disk-0,size=3G",
                           "ide2": "local-lvm:vm-9100-cloudinit,media=cdrom",
                           "net0": "virtio=BC:24:11:00:91:00,bridge=vmbr0"}}],
}  # fmt: skip
# What PVE's cloud-init drive holds for the clone: the form's user and key, DHCP.
USER_DATA = f"""#cloud-config
users:
  - name: debian
    ssh_authorized_keys: ["{KEY}"]
"""
STEP_ENDED = re.compile(r'step-(?:done|skipped)">.*?class="step-label">([^<]+)<', re.S)
NETWORK = "version: 1\nconfig:\n  - {type: physical, name: eth0, subnets: [{type: dhcp}]}\n"
STAND_IN = f"""set -e
root=$(mktemp -d)
mkdir -p "$root/bin" "$root/www"
cp /bin/busybox "$root/bin/"
for applet in sh env httpd; do ln -s busybox "$root/bin/$applet"; done
echo '<h1>linkding stand-in</h1>' > "$root/www/index.html"
echo ok > "$root/www/health"
tar -C "$root" -c . | docker import \\
    --change 'CMD ["/bin/busybox", "httpd", "-f", "-p", "9090", "-h", "/www"]' - {IMAGE}
"""


@pytest.fixture
def pve(_fakepve_pki):
    with served(RealGuestPve, CLUSTER, _fakepve_pki) as fake:
        yield fake


def test_linkding_runs_in_a_real_vm_deployed_by_the_portal(tmp_path, pve, fakepve_cafile):
    started = time.monotonic()
    address = lease_address(VMID)
    seed = seed_iso(USER_DATA, meta_data(f"pve-{VMID}", NAME), NETWORK)
    guest = Guest(tmp_path, seed, free_port(), forwards=((address, 9090, 9090),))
    pve.real_guest, pve.real_name = guest, NAME
    try:
        portal = start_portal(
            tmp_path, {"host": f"127.0.0.1:{pve.port}", "cafile": fakepve_cafile}, "wsgi:app",
            job_worker=True, DEPLOY_POLL_SECONDS="1", DEPLOY_BOOT_TIMEOUT="900",
        )  # fmt: skip
        phase("QEMU and the portal started", started)
        try:
            session = deploy(portal)
            phase("deploy asked for", started)
            guest.wait_for_agent()
            assert guest.run(["cloud-init", "status", "--wait"])[0] == 0
            phase("real cloud-init done", started)
            code, out, err = guest.run(["sh", "-c", STAND_IN])
            assert code == 0, out + err
            pve.ready = True  # the portal now sees the VM's agent
            phase("stand-in image in place", started)
            page = wait_until_settled(session, portal.url + "/my-apps/1", started)
            assert "Running at 127.77.0.100" in page, page[-3000:]
            check_the_app(guest, portal, tmp_path, address)
            phase("checked", started)
        finally:
            portal.stop()
    finally:
        guest.stop()


def deploy(portal) -> requests.Session:
    session = requests.Session()
    token = csrf_token_in(session.get(portal.url + "/login").text)
    login = {"username": "bob", "password": USER_PASSWORD, "csrf_token": token}
    assert session.post(portal.url + "/login", data=login).status_code == 200
    form = session.get(portal.url + "/apps/linkding/deploy?runtime=vm").text
    data = {
        "runtime": "vm", "name": NAME, "node": "auto", "storage": "local-lvm", "cores": "1",
        "memory": "1024", "disk": "8", "input_ld_superuser_name": "admin",
        "input_login_user": "debian", "input_ssh_key": KEY,
        "csrf_token": csrf_token_in(form), "request_key": uuid.uuid4().hex,
    }  # fmt: skip
    response = session.post(portal.url + "/apps/linkding/deploy", data=data)
    assert response.url.endswith("/my-apps/1"), response.text[-2000:]
    return session


def wait_until_settled(session: requests.Session, url: str, started: float) -> str:
    """The app page once the deploy ran or failed, each step's end printed as it comes."""
    seen: set[str] = set()
    while time.monotonic() - started < 1500:
        page = session.get(url).text
        for label in re.findall(
            r'step-(?:done|skipped)">.*?class="step-label">([^<]+)<', page, re.S
        ):
            if label not in seen:
                seen.add(label)
                phase(f"step done: {label}", started)
        if "Running at" in page or "Deploy again" in page:
            return page
        time.sleep(3)
    raise TimeoutError("the deploy did not end in 25 minutes")


def check_the_app(guest: Guest, portal, workdir, address: str) -> None:
    """The link answers; Compose runs the app with its generated secret, kept only in the VM."""
    answer = requests.get(f"http://{address}:9090/", timeout=10)
    assert answer.status_code == 200 and "linkding stand-in" in answer.text
    code, env_text, err = guest.run(["cat", ENV_FILE])
    assert code == 0, err
    password = parse_env(env_text)["LD_SUPERUSER_PASSWORD"]
    assert len(password) == 32 and password.isalnum()
    assert guest.run(["stat", "-c", "%a", APP_DIR])[1].strip() == "700"
    code, env_inside, err = guest.run(
        ["docker", "exec", "app-linkding-1", "env"]
    )  # the container got its environment from the .env, through Compose
    assert code == 0, err
    assert f"LD_SUPERUSER_PASSWORD={password}" in env_inside
    assert "LD_SUPERUSER_NAME=admin" in env_inside
    keys = guest.run(["cat", "/home/debian/.ssh/authorized_keys"])[1]
    assert KEY in keys  # cloud-init made the form's user with its key
    database = sqlite3.connect(workdir / "portal.sqlite")
    dump = "\n".join(database.iterdump())
    database.close()
    assert password not in dump and "linkding" in dump

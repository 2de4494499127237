"""The base template, made by the portal (admins: a page and `flask base-template`): Proxmox
downloads the image with the SHA-512 published beside it, a seed ISO the portal built installs
the packages, and the VM becomes a template. Found when it is there; refused before PVE 8.4;
every failure ends with one Sentry event and nothing left behind."""

from __future__ import annotations

import hashlib
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pycdlib
import pytest

from tests.conftest import log_in
from tests.deploys.conftest import apps_in

IMAGE = "debian-13-genericcloud-amd64.qcow2"
SHA512 = hashlib.sha512(b"the image").hexdigest()


class Sums(BaseHTTPRequestHandler):
    """cloud.debian.org's SHA512SUMS, on loopback."""

    def do_GET(self):
        if not self.path.endswith("/SHA512SUMS"):
            self.send_error(404)
            return
        body = f"{'0' * 128}  debian-13-nocloud-amd64.qcow2\n{SHA512}  {IMAGE}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def mirror():
    """The image's folder: its URL (SHA512SUMS beside the image)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sums)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/trixie/latest"
    server.shutdown()


@pytest.fixture(autouse=True)
def import_content(pve):
    """`local` takes disk images to import, as an admin allows it (PVE's default does not)."""
    pve.storages["local"]["content"] += ",import"


@pytest.fixture
def admin_app(make_app, pve, mirror):
    return make_app(BASE_IMAGE_URL=f"{mirror}/{IMAGE}", BASE_IMAGE_SUMS_URL=f"{mirror}/SHA512SUMS")


def make(client, node: str = "pve1", storage: str = "local-lvm"):
    data = {"node": node, "storage": storage, "request_key": "a" * 32}
    return client.post("/admin/base-template", data=data)


def bases(pve, node: str) -> list:
    return [vm for vm in pve.vms if vm.name == "portal-debian-13" and vm.node == node]


def isos(pve) -> list[str]:
    return [name for name in pve.storages["local"]["volumes"] if name.startswith("iso/")]


def test_an_admin_makes_the_base_template_on_a_node(admin_app, pve, mirror):
    client = log_in(admin_app, "alice", "admin")
    page = client.get("/admin/base-template").get_data(as_text=True)
    assert "No node holds" not in page  # pve2 has one
    assert '<option selected value="pve1">' in page  # the form offers a node that has none
    assert bases(pve, "pve1") == []
    response = make(client)
    assert response.status_code == 302 and response.location == "/my-apps/1"
    [build] = apps_in(admin_app)
    assert build.status == "running", build.error
    assert {s.status for s in build.steps} == {"done"}
    [vm] = bases(pve, "pve1")
    assert vm.template and vm.config["tags"] == "portal-base" and vm.config["agent"] == "1"
    assert vm.config["ide2"].startswith("local-lvm:") and "cloudinit" in vm.config["ide2"]
    assert isos(pve) == []  # the seed ISO is gone from the storage
    assert f"import/{IMAGE}" in pve.storages["local"]["volumes"]
    [body] = [body for method, path, body in pve.requests if path.endswith("/download-url")]
    asked = dict(parse_qsl(body.decode()))
    assert asked["checksum"] == SHA512 and asked["checksum-algorithm"] == "sha512"
    assert asked["url"] == f"{mirror}/{IMAGE}" and asked["content"] == "import"
    user_data = iso_file(pve.uploaded["data"], "/USERDATA.;1")
    assert user_data.startswith("#cloud-config") and "docker-compose" in user_data
    assert "poweroff" in user_data and "qemu-guest-agent" in user_data
    network = iso_file(pve.uploaded["data"], "/NETWORK.;1")
    assert vm.config["net0"].split(",")[0].split("=")[1].lower() in network  # by its MAC
    page = client.get("/admin/base-template").get_data(as_text=True)
    assert f'href="/guests/pve1/qemu/{vm.vmid}"' in page


def iso_file(image: bytes, path: str) -> str:
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(image))
    out = io.BytesIO()
    iso.get_file_from_iso_fp(out, iso_path=path)
    iso.close()
    return out.getvalue().decode()


def test_a_second_run_finds_the_template_and_makes_nothing(admin_app, pve):
    client = log_in(admin_app, "alice", "admin")
    make(client, node="pve2")  # the test cluster has portal-debian-13 on pve2
    [build] = apps_in(admin_app)
    assert build.status == "running", build.error
    check = build.steps[0]
    assert check.detail == "portal-debian-13 is on pve2 already (VMID 9100)"
    assert [s.status for s in build.steps[1:-1]] == ["skipped"] * 7
    assert len(bases(pve, "pve2")) == 1 and build.vmid == 9100


def test_the_command_makes_it_too(admin_app, pve):
    result = admin_app.test_cli_runner().invoke(args=["base-template", "pve1", "local-lvm"])
    assert result.exit_code == 0, result.output
    assert "The base template is ready on pve1: portal-debian-13 (VMID" in result.output
    assert "done  Download Debian 13" in result.output and len(bases(pve, "pve1")) == 1


def test_before_proxmox_8_4_it_says_so_and_makes_nothing(sentry, pve, mirror):
    app, transport = sentry(BASE_IMAGE_URL=f"{mirror}/{IMAGE}",
                            BASE_IMAGE_SUMS_URL=f"{mirror}/SHA512SUMS")  # fmt: skip
    pve.version, pve.release_version = "8.3.5", "8.3"
    make(log_in(app, "alice", "admin"))
    [build] = apps_in(app)
    assert build.status == "failed" and "needs Proxmox VE 8.4 or later" in build.error
    assert "The base template by hand" in build.error
    assert bases(pve, "pve1") == [] and len(transport.events()) == 1


FAILURES = {  # step: how it fails, and what the build says
    "download": (("POST", "/download-url", {"status": 500, "message":
                  "checksum mismatch: got 1234, expected 5678"}), "checksum mismatch"),
    "create_base": (("POST", "/nodes/pve1/qemu", {"status": 500, "message":
                     "unable to create VM - import failed: qemu-img: Could not open"}),
                    "import failed"),
    "seed": (("POST", "/upload", {"status": 500, "message": "upload failed: no space left"}),
             "upload failed"),
}  # fmt: skip


@pytest.mark.parametrize("step", [*FAILURES, "sums"])
def test_a_failed_build_leaves_nothing_and_sends_one_event(sentry, pve, mirror, step):
    sums = f"{mirror}/SHA512SUMS" if step != "sums" else f"{mirror}/MISSING"
    app, transport = sentry(BASE_IMAGE_URL=f"{mirror}/{IMAGE}", BASE_IMAGE_SUMS_URL=sums)
    if step == "sums":
        expected, failed = "Could not read the image's checksums", "download"
    else:
        (method, suffix, fault), expected = FAILURES[step]
        pve.fail(method, suffix, **fault)
        failed = step
    make(log_in(app, "alice", "admin"))
    [build] = apps_in(app)
    assert build.status == "failed" and expected in build.error, build.error
    assert [s.name for s in build.steps if s.status == "failed"] == [failed]
    assert bases(pve, "pve1") == [] and isos(pve) == []  # no VM, no seed ISO
    events = transport.events()
    assert len(events) == 1
    assert events[0]["tags"]["deploy_step"] == failed
    assert events[0]["contexts"]["app_deploy"]["catalog_id"] == "portal-base"


def test_plain_users_cannot_make_it(admin_app, pve):
    client = log_in(admin_app, "bob", "user")
    assert client.get("/admin/base-template").status_code in (403, 404)
    assert make(client).status_code in (403, 404) and apps_in(admin_app) == []

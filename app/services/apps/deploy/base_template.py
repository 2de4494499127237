"""The steps that make the portal's base template, the VM every Compose app is cloned from:
Debian 13 (the official genericcloud image) with the QEMU guest agent and Docker Compose.

Run as an app of its own (catalog id BASE_ID) through the deploy runner, so it has the same
progress, lease, resume, cleanup and single Sentry event as a deploy. The image is downloaded
by Proxmox (`download-url`, content `import`, PVE >= 8.4) and checked against the SHA-512 the
portal reads from the image's SHA512SUMS beside it, over HTTPS, at that moment: Debian's
"latest" folder is never removed (dated builds are, after some months), so nothing pinned
goes stale. A NoCloud seed ISO (app.cloudinit) installs the packages on the first boot,
cleans cloud-init's state and powers the VM off; the ISO is then removed and the VM made a
template.
"""

from __future__ import annotations

import io
import time

import requests
import yaml
from flask import current_app

from app import cloudinit
from app.catalog import BASE_ID, BASE_TEMPLATE
from app.exceptions import AppServiceError
from app.models import AppStep, StepStatus
from app.proxmox import deploys as pve
from app.proxmox import guests as pve_guests
from app.proxmox.cluster import cluster_resources, storage_volumes, storages
from app.services.apps.catalog import pve_release
from app.services.apps.deploy.context import Deploy
from app.services.apps.deploy.steps import claim_and_create

BASE_TAG = "portal-base"
IMPORT_SINCE = (8, 4)  # download-url with content "import", and import-from on create
PACKAGES = ["qemu-guest-agent", "docker.io", "docker-cli", "docker-compose"]
USER_DATA = "#cloud-config\n" + yaml.safe_dump({
    "package_update": True,
    "packages": PACKAGES,
    "runcmd": [["systemctl", "enable", "docker"],
               ["cloud-init", "clean", "--logs", "--machine-id"]],
    "power_state": {"mode": "poweroff", "timeout": 60, "condition": True},
}, sort_keys=False)  # fmt: skip


def image_file() -> str:
    """The image's file name (also its name in the import storage)."""
    return str(current_app.config["BASE_IMAGE_URL"]).rsplit("/", 1)[-1]


def seed_file(deploy: Deploy) -> str:
    return f"portal-base-seed-{deploy.app.id}.iso"


def check(deploy: Deploy, step: AppStep) -> None:
    """Proxmox can import an image (8.4+), the node has the storages it needs; and if the
    node has the template already, that is the answer (every later step is skipped)."""
    release = pve_release()
    if release < IMPORT_SINCE:
        shown = ".".join(str(n) for n in release)
        raise AppServiceError(
            f"Making the base template needs Proxmox VE 8.4 or later (it imports a disk image "
            f"through the API); this cluster runs {shown}. Make it by hand as docs/APPS.md "
            "says under “The base template by hand”."
        )
    app = deploy.app
    found = next(
        (g for g in cluster_resources(deploy.client).guests
         if g.template and g.type == "qemu" and g.name == BASE_TEMPLATE and g.node == app.node),
        None,
    )  # fmt: skip
    if found is not None:
        app.vmid = found.vmid
        for later in app.steps:
            if later.position > step.position and later.name != "finish":
                later.status, later.detail = StepStatus.SKIPPED, "the template is there already"
        step.detail = f"{BASE_TEMPLATE} is on {app.node} already (VMID {found.vmid})"
        return
    for key, content in (("image_storage", "import"), ("seed_storage", "iso")):
        app.inputs = {**app.inputs, key: _file_storage(deploy, content)}
    step.detail = (
        f"images on {app.inputs['image_storage']}, the seed on {app.inputs['seed_storage']}"
    )


def _file_storage(deploy: Deploy, content: str) -> str:
    node = deploy.app.node
    names = sorted(
        s.name for s in storages(deploy.client)
        if s.node == node and s.active and content in s.content
    )  # fmt: skip
    if not names:
        raise AppServiceError(
            f"{node} has no storage for “{content}” content. Allow it on a file-based storage "
            "(Datacenter → Storage → Edit → Content), then try again."
        )
    return "local" if "local" in names else names[0]


def download(deploy: Deploy, step: AppStep) -> None:
    """Proxmox downloads the image into the import storage, checking its SHA-512."""
    app, name = deploy.app, image_file()
    storage = app.inputs["image_storage"]
    volumes = storage_volumes(deploy.client, app.node, storage, content="import")
    if any(str(v.get("volid")) == f"{storage}:import/{name}" for v in volumes):
        step.status, step.detail = StepStatus.SKIPPED, f"{storage}:import/{name} is there already"
        return
    checksum = _published_sha512(name)
    step.detail = f"{name}, SHA-512 {checksum[:16]}…"
    url = str(current_app.config["BASE_IMAGE_URL"])
    deploy.run_task(
        step, "download",
        lambda client: pve.download_image(client, app.node, storage, url, name, checksum),
    )  # fmt: skip


def _published_sha512(name: str) -> str:
    url = str(current_app.config["BASE_IMAGE_SUMS_URL"])
    try:
        answer = requests.get(url, timeout=30)
        answer.raise_for_status()
    except requests.RequestException as error:
        raise AppServiceError(f"Could not read the image's checksums from {url}: {error}") from None
    for line in answer.text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == name and len(parts[0]) == 128:
            return parts[0].lower()
    raise AppServiceError(f"{url} lists no SHA-512 for {name}.")


def create_base(deploy: Deploy, step: AppStep) -> None:
    """The VM, its disk imported from the image (grown later by each app's clone)."""
    app = deploy.app
    image = f"{app.inputs['image_storage']}:import/{image_file()}"
    settings = {
        "name": BASE_TEMPLATE, "memory": app.memory, "cores": app.cores, "ostype": "l26",
        "scsihw": "virtio-scsi-single", "scsi0": f"{app.storage}:0,import-from={image}",
        "net0": f"virtio,bridge={current_app.config['DEPLOY_BRIDGE']}", "agent": "1",
        "serial0": "socket", "vga": "serial0", "boot": "order=scsi0", "tags": BASE_TAG,
        "description": "Debian 13 with the QEMU guest agent and Docker Compose: the base of "
                       "the portal's Compose apps (docs/APPS.md).",
    }  # fmt: skip
    claim_and_create(
        deploy, step, "create",
        lambda vmid: pve.create_vm(deploy.client, app.node, vmid, settings),
    )  # fmt: skip


def seed(deploy: Deploy, step: AppStep) -> None:
    """The NoCloud seed ISO (its network by the VM's MAC), uploaded and put in its CD drive."""
    app = deploy.app
    config = pve_guests.config(deploy.client, app.node, "qemu", deploy.vmid)
    mac = str(config.get("net0", "")).split(",")[0].partition("=")[2].lower()
    network = yaml.safe_dump({"version": 1, "config": [{
        "type": "physical", "name": "eth0", "mac_address": mac, "subnets": [{"type": "dhcp"}],
    }]})  # fmt: skip
    meta = cloudinit.meta_data(f"portal-base-{app.id}", BASE_TEMPLATE)
    image = io.BytesIO(cloudinit.seed_iso(USER_DATA, meta, network))
    image.name = seed_file(deploy)  # the name Proxmox stores it under
    storage = app.inputs["seed_storage"]
    deploy.run_task(
        step, "upload", lambda client: pve.upload_iso(client, app.node, storage, image)
    )  # fmt: skip
    pve.set_config(
        deploy.client, app.node, "qemu", deploy.vmid,
        ide2=f"{storage}:iso/{seed_file(deploy)},media=cdrom",
    )  # fmt: skip
    step.detail = f"{storage}:iso/{seed_file(deploy)} ({len(image.getvalue()) // 1024} KiB)"


def prepare(deploy: Deploy, step: AppStep) -> None:
    """Until the VM has installed its packages and powered itself off."""
    app = deploy.app
    limit = float(current_app.config["DEPLOY_TASK_TIMEOUT"])
    start = time.monotonic()
    while (
        pve_guests.status(deploy.client, app.node, "qemu", deploy.vmid).get("status") != "stopped"
    ):
        waited = time.monotonic() - start
        if waited > limit:
            raise AppServiceError(
                f"The VM did not finish its first boot within {limit:g} s (it installs "
                f"{', '.join(PACKAGES)} and powers off). Its serial console shows why."
            )
        step.detail = f"installing, {waited:.0f} s so far"
        deploy.pause()
    step.detail = "prepared and powered off"


def seal(deploy: Deploy, step: AppStep) -> None:
    """The seed ISO out (of the VM and the storage), a cloud-init drive in for the apps'
    clones, and the VM made a template."""
    app = deploy.app
    pve.set_config(deploy.client, app.node, "qemu", deploy.vmid, delete="ide2")
    pve.set_config(deploy.client, app.node, "qemu", deploy.vmid, ide2=f"{app.storage}:cloudinit")
    remove_seed(deploy)
    deploy.run_task(
        step, "template", lambda client: pve.make_template(client, app.node, deploy.vmid)
    )
    step.detail = f"{BASE_TEMPLATE} (VMID {deploy.vmid}) on {app.node}"


def remove_seed(deploy: Deploy) -> None:
    """Delete the build's seed ISO from its storage, if it is there (also after a failure)."""
    app = deploy.app
    storage = app.inputs.get("seed_storage")
    if not storage:
        return
    volid = f"{storage}:iso/{seed_file(deploy)}"
    volumes = storage_volumes(deploy.client, app.node, storage, content="iso")
    if any(str(v.get("volid")) == volid for v in volumes):
        pve.delete_volume(deploy.client, app.node, storage, volid)


__all__ = ["BASE_ID", "RUN", "remove_seed"]
RUN = {"check": check, "download": download, "create_base": create_base, "seed": seed,
       "prepare": prepare, "seal": seal}  # fmt: skip

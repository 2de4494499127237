"""What each step of a deploy does, through the Proxmox API only (the steps in order are in
plans.py; runner.py runs them in the worker, and resumes or fails them when a worker dies)."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import current_app

from app.exceptions import AppServiceError, ProxmoxError
from app.extensions import db
from app.models import App, AppStep, StepStatus
from app.proxmox import deploys as pve
from app.proxmox import guests as pve_guests
from app.proxmox.cluster import Guest
from app.services import ownership, vmids
from app.services.apps.deploy.context import Deploy
from app.services.apps.deploy.plans import TAG
from app.services.guests import addresses


def reserve(deploy: Deploy, step: AppStep) -> None:
    """A VMID no guest and no other work of the portal has (app.services.vmids)."""
    app = deploy.app
    vmids.claim(deploy.client, lambda vmid: setattr(app, "vmid", vmid))
    step.detail = f"VMID {app.vmid}"


def clone(deploy: Deploy, step: AppStep) -> None:
    """Full clone of the app's template on the chosen node and storage."""
    app = deploy.app
    template = deploy.template_vmid()
    claim_and_create(
        deploy, step, "clone",
        lambda vmid: pve.clone_template(
            deploy.client, app.node, template, vmid, app.name, app.storage
        ),
    )  # fmt: skip


def claim_and_create(
    deploy: Deploy, step: AppStep, action: str, call: Callable[[int], str], on: App | None = None
) -> None:
    """Run the creating task; if the VMID was taken meanwhile (outside the portal), take the
    next free one and try again. The new guest is the deploying user's from the start."""
    app = deploy.app
    for _ in range(5):
        try:
            task = deploy.start_task(step, action, lambda _client: call(deploy.vmid), on)
            break
        except ProxmoxError as error:
            if "already exists" not in (error.pve_message or error.message):
                raise
            vmids.claim(deploy.client, lambda vmid: setattr(app, "vmid", vmid))
    else:
        raise AppServiceError("The VMIDs offered kept being taken; try the deploy again.")
    if deploy.app.user is not None:
        guest = Guest(deploy.vmid, app.name, app.guest_type, app.node, "stopped")
        ownership.assign(guest, deploy.app.user)
        db.session.commit()
    deploy.wait_for(task)


def configure(deploy: Deploy, step: AppStep) -> None:
    """Resources, cloud-init (VMs), a description naming the app and its owner, and tags."""
    app = deploy.app
    owner = app.user.username if app.user else "nobody"
    values: dict = {
        "description": f"{deploy.catalog.name} ({app.catalog_id}), deployed by the portal for "
        f"{owner} (app {app.id}).",
        "tags": f"{TAG};{app.catalog_id}",
    }
    if app.guest_type == "qemu":
        values.update(cores=app.cores, memory=app.memory, ipconfig0="ip=dhcp")
        values.update(deploy.values_for(("ciuser", "cipassword", "sshkeys", "ipconfig0")))
    pve.set_config(deploy.client, app.node, app.guest_type, deploy.vmid, **values)


def resize(deploy: Deploy, step: AppStep) -> None:
    """Grow the boot disk to the size asked for (never shrink it)."""
    app = deploy.app
    config = pve_guests.config(deploy.client, app.node, app.guest_type, deploy.vmid)
    disk = pve_guests.boot_disk(config, "qemu")
    if disk is None:
        raise AppServiceError("The cloned VM has no disk to grow (scsi0, virtio0, sata0, ide0).")
    current = pve_guests.disk_size_gib(config[disk])
    if current >= app.disk:
        step.status, step.detail = StepStatus.SKIPPED, f"{disk} is {current} GiB already"
        return
    step.detail = f"{disk}: {current:g} → {app.disk} GiB"
    deploy.run_task(  # PVE before 8 resizes without a task: then nothing to wait for
        step, "resize",
        lambda client: pve.resize_disk(client, app.node, "qemu", deploy.vmid, disk, app.disk),
    )  # fmt: skip


def start(deploy: Deploy, step: AppStep) -> None:
    """Start the guest (a guest already running counts as started)."""
    app = deploy.app
    status = pve_guests.status(deploy.client, app.node, app.guest_type, deploy.vmid)
    if status.get("status") == "running":
        step.detail = "running already"
        return
    deploy.run_task(
        step, "start",
        lambda client: pve_guests.lifecycle(client, app.node, app.guest_type, deploy.vmid, "start"),
    )  # fmt: skip


def wait(deploy: Deploy, step: AppStep) -> None:
    """Until the guest has an IPv4 address (from its guest agent, or a container's
    interfaces), or DEPLOY_BOOT_TIMEOUT passes."""
    app = deploy.app
    timeout = float(current_app.config["DEPLOY_BOOT_TIMEOUT"])
    deadline = time.monotonic() + timeout
    while True:
        address = _address(deploy)
        if address:
            app.ip_address, step.detail = address, address
            return
        if time.monotonic() > deadline:
            what = "The guest agent" if app.guest_type == "qemu" else "The container"
            raise AppServiceError(
                f"{what} gave no IPv4 address within {timeout:g} s. Check that the template "
                "runs qemu-guest-agent (and has `agent: 1`) and that the network gives it one "
                "by DHCP."
            )
        deploy.pause()


def _address(deploy: Deploy) -> str | None:
    app = deploy.app
    try:
        found = pve_guests.interfaces(deploy.client, app.node, app.guest_type, deploy.vmid)
    except ProxmoxError as error:
        if error.kind != "api":  # Proxmox itself is away: that is a failure, not a wait
            raise
        return None  # the agent does not run yet (PVE answers 500)
    return next((a.ip for a in addresses.usable(found) if a.version == 4), None)


def finish(deploy: Deploy, step: AppStep) -> None:
    """The outputs, with the address, name, VMID and non-secret inputs filled in."""
    values = deploy.values(with_secrets=False)
    deploy.app.outputs = [
        {"label": o.label, "value": o.value.format_map(values), "kind": o.kind}
        for o in deploy.catalog.outputs
    ]


RUN: dict[str, Callable[[Deploy, AppStep], None]] = {
    "reserve": reserve, "clone": clone, "configure": configure, "resize": resize,
    "start": start, "wait": wait, "finish": finish,
}  # fmt: skip

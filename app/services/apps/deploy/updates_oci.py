"""Updating an app that runs as an OCI container: a new container from the new image, with a
copy of the old one's data, while the old one waits, stopped, to be rolled back to.

Proxmox cannot swap a container's image, nor move a volume that a snapshot holds to another
container, so the VM's snapshot-and-recreate cannot work here. Instead: the new image is
pulled, the running container stopped (it is the way back, kept as it was), a full clone of
it made, the clone's data volume (mp0) given to a new container created from the new image
(`move_volume` with `target-vmid`), and the clone — now just the old image — destroyed. The
new container gets the app's environment (generated secrets kept), starts, and must answer.
On success the app's guest is the new container, and the old one is destroyed after
UPDATE_SNAPSHOT_DAYS; on failure the new one is destroyed and the old one started again.
"""

from __future__ import annotations

import logging

from app.exceptions import ProxmoxError
from app.extensions import db
from app.models import App, AppStep, StepStatus
from app.proxmox import ProxmoxClient
from app.proxmox import deploys as pve
from app.proxmox import guests as pve_guests
from app.proxmox.cluster import cluster_resources
from app.services import ownership, vmids
from app.services.apps.deploy import oci, steps, teardown
from app.services.apps.deploy.context import Deploy

log = logging.getLogger(__name__)
DATA = "mp0"  # where oci.create puts the app's data


def stop_previous(deploy: Deploy, step: AppStep) -> None:
    """The running container becomes the previous one: shut down (its data consistent), kept."""
    app = deploy.app
    if app.previous_vmid is not None and app.snapshot_expires is not None:
        drop_previous(deploy.client, app)  # the last update's, kept until now: superseded
    if app.previous_vmid is None:
        app.previous_vmid = app.vmid
        db.session.commit()
    previous = int(app.previous_vmid or 0)
    step.detail = f"CT {previous} kept, stopped, to roll back to"
    if pve_guests.status(deploy.client, app.node, "lxc", previous).get("status") != "running":
        return
    deploy.run_task(
        step, "shutdown",
        lambda client: pve_guests.lifecycle(client, app.node, "lxc", previous, "shutdown"),
    )  # fmt: skip


def create_new(deploy: Deploy, step: AppStep) -> None:
    """The new container, from the new image, without a data volume yet; its network card
    keeps the old one's MAC address, so that DHCP gives it the same address."""
    app = deploy.app
    settings = oci.container_settings(deploy, with_data=False)
    old = pve_guests.config(deploy.client, app.node, "lxc", int(app.previous_vmid or 0))
    mac = _hwaddr(str(old.get("net0") or ""))
    if mac:
        settings["net0"] += f",hwaddr={mac}"
    steps.claim_and_create(
        deploy, step, "create",
        lambda vmid: pve.create_container(deploy.client, app.node, vmid, settings),
    )  # fmt: skip


def copy_data(deploy: Deploy, step: AppStep) -> None:
    """A full clone of the previous container: the copy of its data the new one takes."""
    app = deploy.app
    if app.data_copy_vmid is None:
        vmids.claim(deploy.client, lambda vmid: setattr(app, "data_copy_vmid", vmid))
    copy = int(app.data_copy_vmid or 0)
    step.detail = f"CT {app.previous_vmid} → CT {copy}"
    deploy.run_task(
        step, "clone",
        lambda client: pve.clone_container(
            client, app.node, int(app.previous_vmid or 0), copy, f"{app.name}-data", app.storage
        ),
    )  # fmt: skip


def move_data(deploy: Deploy, step: AppStep) -> None:
    """The copy's data volume becomes the new container's mp0."""
    app = deploy.app
    copy = int(app.data_copy_vmid or 0)
    step.detail = f"{DATA} of CT {copy} → CT {app.vmid}"
    deploy.run_task(
        step, "move_volume",
        lambda client: pve.give_volume(client, app.node, copy, DATA, deploy.vmid),
    )  # fmt: skip


def drop_copy(deploy: Deploy, step: AppStep) -> None:
    """The clone, its data given away, is destroyed."""
    app = deploy.app
    copy = int(app.data_copy_vmid or 0)
    deploy.run_task(
        step, "delete", lambda client: pve_guests.destroy(client, app.node, "lxc", copy)
    )
    app.data_copy_vmid = None
    step.detail = f"CT {copy} destroyed"


def restore(deploy: Deploy, extra_step) -> None:
    """Back to the previous container: the new one and the copy destroyed, the old one
    started again and its address awaited, each a step on the app's page."""
    app = deploy.app
    previous = int(app.previous_vmid or 0)
    back = extra_step(app, "rollback", f"Remove the new container; back to CT {previous}")
    for vmid in (app.data_copy_vmid, app.vmid):
        if vmid is not None and vmid != previous:
            _remove(deploy, int(vmid))
    app.vmid, app.previous_vmid, app.data_copy_vmid = previous, None, None
    _done(back)
    again = extra_step(app, "start", "Start the previous container again")
    steps.start(deploy, again)
    _done(again)
    address = extra_step(app, "wait", "Wait for its address")
    steps.wait(deploy, address)
    _done(address)


def _remove(deploy: Deploy, vmid: int) -> None:
    """Stop and destroy one of the update's containers, if it was made."""
    for guest in cluster_resources(deploy.client, vmid).guests:
        if guest.vmid == vmid:
            teardown.remove_guest(deploy, guest)


def _done(step: AppStep) -> None:
    step.status = StepStatus.DONE
    db.session.commit()


def drop_previous(client: ProxmoxClient, app: App) -> bool:
    """Destroy the container an update kept (gone already counts); False when Proxmox
    refused (it is running again, say): it stays, and is tried again later."""
    try:
        pve_guests.destroy(client, app.node, "lxc", int(app.previous_vmid or 0))
    except ProxmoxError as error:
        if "does not exist" not in (error.pve_message or error.message):
            log.warning("CT %s of app %s stays: %s", app.previous_vmid, app.id, error)
            return False
    ownership.forget(int(app.previous_vmid or 0))
    app.previous_vmid, app.snapshot_expires = None, None
    db.session.commit()
    return True


def _hwaddr(net: str) -> str | None:
    for part in net.split(","):
        key, _, value = part.partition("=")
        if key == "hwaddr":
            return value
    return None


RUN = {
    "stop_previous": stop_previous, "create_new": create_new, "copy_data": copy_data,
    "move_data": move_data, "drop_copy": drop_copy,
}  # fmt: skip

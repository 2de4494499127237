"""The steps of cloning an app: a full clone of its guest with its configuration.

VM: reserve a VMID, copy (a full clone; PVE clones a running VM as it is), start, wait for the
address, finish. Container: the same, but a running container is copied from a temporary
snapshot, which is removed afterwards — and on failure (teardown.py).
The source is left as it was: its config digest does not change.
"""

from __future__ import annotations

from app.exceptions import AppServiceError
from app.models import SETTLED, App, AppStep, StepStatus
from app.proxmox import deploys as pve_deploys
from app.proxmox import guests as pve_guests
from app.services.apps.deploy.context import Deploy
from app.services.apps.deploy.plans import snapshot_name
from app.services.apps.deploy.steps import claim_and_create


def source_of(deploy: Deploy) -> App:
    source = deploy.app.source
    if source is None or source.vmid is None or source.status not in SETTLED:
        raise AppServiceError("The source app is gone, or is not running or stopped.")
    return source


def snapshot(deploy: Deploy, step: AppStep) -> None:
    """A running source container is copied from a snapshot (PVE cannot copy it live)."""
    source = source_of(deploy)
    status = pve_guests.status(deploy.client, source.node, "lxc", int(source.vmid or 0))
    if status.get("status") != "running":
        step.status, step.detail = StepStatus.SKIPPED, "the source is stopped"
        return
    name = snapshot_name(deploy.app)
    # No description: a snapshot's description would replace the guest's in the copy.
    step.detail = name
    deploy.run_task(
        step, "snapshot",
        lambda c: pve_guests.create_snapshot(c, source.node, "lxc", int(source.vmid or 0), name),
        on=source,
    )  # fmt: skip


def copy(deploy: Deploy, step: AppStep) -> None:
    """A full clone of the source guest, named after the clone, on the chosen node."""
    app, source = deploy.app, source_of(deploy)
    params: dict = {"full": 1, "storage": app.storage}
    if app.node != source.node:
        params["target"] = app.node
    if app.guest_type == "lxc":
        params["hostname"] = app.name
        snapshots = {s.name: s for s in app.steps if s.name == "snapshot"}
        if "snapshot" in snapshots and snapshots["snapshot"].status == StepStatus.DONE:
            params["snapname"] = snapshot_name(app)
    else:
        params["name"] = app.name
    path = f"nodes/{source.node}/{app.guest_type}/{int(source.vmid or 0)}/clone"
    claim_and_create(
        deploy, step, "clone",
        lambda vmid: deploy.client.request("POST", path, newid=vmid, **params), on=source,
    )  # fmt: skip
    if "snapname" in params:  # a snapshot may not carry the guest's description: copy it
        config = pve_guests.config(deploy.client, source.node, "lxc", int(source.vmid or 0))
        if config.get("description"):
            pve_deploys.set_config(
                deploy.client, app.node, "lxc", deploy.vmid, description=config["description"]
            )


def unsnapshot(deploy: Deploy, step: AppStep) -> None:
    """Remove the temporary snapshot of the source, if one was taken."""
    if not drop_snapshot(deploy, step):
        step.status, step.detail = StepStatus.SKIPPED, "no snapshot was taken"


def drop_snapshot(deploy: Deploy, step: AppStep) -> bool:
    """Delete the clone's temporary snapshot of its source, if it exists; True if it did."""
    source = deploy.app.source
    if source is None or source.vmid is None or source.guest_type != "lxc":
        return False
    name = snapshot_name(deploy.app)
    vmid = int(source.vmid)
    existing = pve_guests.snapshots(deploy.client, source.node, "lxc", vmid)
    if not any(entry.get("name") == name for entry in existing):
        return False
    deploy.run_task(
        step, "delsnapshot",
        lambda c: pve_guests.delete_snapshot(c, source.node, "lxc", vmid, name), on=source,
    )  # fmt: skip
    return True


RUN = {"snapshot": snapshot, "copy": copy, "unsnapshot": unsnapshot}

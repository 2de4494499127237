"""The steps of a deploy and of a clone, and the names a deploy leaves in Proxmox.

A Compose app in a VM: reserve a VMID, full-clone the base template, configure (resources,
cloud-init, description, tags), grow the disk, start, wait for the guest agent's address,
write the Compose file and .env, `docker compose up`, wait until healthy, finish (outputs).
A VM from one of the cluster's templates stops after the address. An app as an OCI
container: reserve, pull its image, create, configure, set its environment, start, wait
for its address, probe its port, finish. An update: in a VM, snapshot, new files, pull, up,
health; as an OCI container, a new container with the old one's data (updates_oci.py).
A clone copies an app's guest (from a temporary snapshot when it is a running container)
instead of making one.
"""

from __future__ import annotations

from app.catalog import CatalogEntry
from app.models import App, AppStep, StepStatus

TAG = "portal-app"  # every guest the portal deploys carries it
FAILED_TAG = "portal-failed"  # a failed deploy's guest, kept for inspection
HIDDEN = "********"  # what people see instead of a secret input

TEMPLATE_VM_STEPS = (
    ("reserve", "Reserve a VMID"),
    ("clone", "Clone the template"),
    ("configure", "Set resources and cloud-init"),
    ("resize", "Grow the disk"),
    ("start", "Start the VM"),
    ("wait", "Wait for the guest agent and an address"),
    ("finish", "Fill in the outputs"),
)
COMPOSE_VM_STEPS = (
    *TEMPLATE_VM_STEPS[:-1],
    ("files", "Write the Compose file and its settings"),
    ("up", "Start the app: docker compose up"),
    ("health", "Wait until the app is healthy"),
    ("finish", "Fill in the outputs"),
)
OCI_STEPS = (
    ("reserve", "Reserve a VMID"),
    ("pull", "Pull the app's image"),
    ("create", "Create the container"),
    ("configure", "Set the description and tags"),
    ("environment", "Set the app's environment"),
    ("start", "Start the container"),
    ("wait", "Wait for an address"),
    ("probe", "Wait until the app answers"),
    ("finish", "Fill in the outputs"),
)
BASE_STEPS = (  # the base template (base_template.py)
    ("check", "Check Proxmox and the node"),
    ("reserve", "Reserve a VMID"),
    ("download", "Download Debian 13 (its SHA-512 checked)"),
    ("create_base", "Create the VM from the image"),
    ("seed", "Build and upload the seed ISO"),
    ("start", "Start the VM"),
    ("prepare", "Install the guest agent and Docker; wait until it powers off"),
    ("seal", "Remove the seed ISO and make it a template"),
    ("finish", "Done"),
)
UPDATE_STEPS = (  # a Compose app in its VM, to the catalog's newest version (updates.py)
    ("update_snapshot", "Snapshot the VM (without its memory)"),
    ("files", "Write the new Compose file and its settings"),
    ("compose_pull", "Pull the new images"),
    ("up", "Recreate the services: docker compose up"),
    ("health", "Wait until the app is healthy"),
    ("finish_update", "Keep the snapshot for a while"),
)
UPDATE_OCI_STEPS = (  # an OCI container app: a new container, the old one kept (updates_oci.py)
    ("pull", "Pull the new image"),
    ("stop_previous", "Stop the running container (kept, to roll back to)"),
    ("reserve", "Reserve a VMID for the new container"),
    ("create_new", "Create the new container from the new image"),
    ("copy_data", "Copy the old container with its data"),
    ("move_data", "Give the copy's data volume to the new container"),
    ("drop_copy", "Remove the copy"),
    ("configure", "Set the description and tags"),
    ("environment", "Set the app's environment (its secrets kept)"),
    ("start", "Start the new container"),
    ("wait", "Wait for an address"),
    ("probe", "Wait until the app answers"),
    ("finish_update", "Keep the old container for a while"),
)
DATA_STEPS = ("copy_data", "move_data", "drop_copy")  # left out for an image without data
CLONE_STEPS = {
    "qemu": (
        ("reserve", "Reserve a VMID"),
        ("copy", "Clone the source VM"),
        ("start", "Start the VM"),
        ("wait", "Wait for the guest agent and an address"),
        ("health", "Wait until the app is healthy"),
        ("finish", "Fill in the outputs"),
    ),
    "lxc": (
        ("reserve", "Reserve a VMID"),
        ("snapshot", "Snapshot the running source"),
        ("copy", "Clone the source container"),
        ("unsnapshot", "Remove the temporary snapshot"),
        ("start", "Start the container"),
        ("wait", "Wait for an address"),
        ("probe", "Wait until the app answers"),
        ("finish", "Fill in the outputs"),
    ),
}
# Steps that must not run twice: interrupted before Proxmox answered, their outcome is unknown.
NOT_REPEATABLE = (
    "clone",
    "create",
    "copy",
    "create_base",
    "update_snapshot",
    "create_new",
    "copy_data",
    "move_data",
)


def _pending(steps) -> list[AppStep]:
    return [
        AppStep(position=i, name=name, label=label, status=StepStatus.PENDING)
        for i, (name, label) in enumerate(steps)
    ]


def deploy_plan(entry: CatalogEntry, runtime: str) -> list[AppStep]:
    """The steps of a deploy of entry in runtime ("vm" or "oci"), pending."""
    if runtime == "oci":
        return _pending(OCI_STEPS)
    return _pending(COMPOSE_VM_STEPS if entry.compose else TEMPLATE_VM_STEPS)


def update_plan(guest_type: str, with_data: bool = True) -> list[AppStep]:
    """The steps of an update of an app in a VM ("qemu") or an OCI container ("lxc", whose
    data, if its image has a data volume, is carried over), pending."""
    if guest_type == "qemu":
        return _pending(UPDATE_STEPS)
    return _pending(s for s in UPDATE_OCI_STEPS if with_data or s[0] not in DATA_STEPS)


def base_plan() -> list[AppStep]:
    """The steps of a base template build, pending."""
    return _pending(BASE_STEPS)


def clone_plan(guest_type: str, has_health: bool) -> list[AppStep]:
    """The steps of a clone, pending (a Compose app's waits until it is healthy again)."""
    checks = ("health", "probe")
    return _pending(s for s in CLONE_STEPS[guest_type] if s[0] not in checks or has_health)


def snapshot_name(app: App) -> str:
    """The temporary snapshot a clone of a running container is made from."""
    return f"portal-clone-{app.id}"

"""The steps of a deploy and of a clone, and the names a deploy leaves in Proxmox.

A VM app: reserve a VMID, full-clone the template, configure (resources, cloud-init,
description, tags), grow the disk, start, wait for the guest agent's address, run the
provisioning commands, finish (outputs). A container app: reserve, create from the
ostemplate, configure, start, wait for its address, finish. A clone copies an app's guest
(from a temporary snapshot when it is a running container) instead of making one.
"""

from __future__ import annotations

from app.models import App, AppStep, StepStatus

TAG = "portal-app"  # every guest the portal deploys carries it
FAILED_TAG = "portal-failed"  # a failed deploy's guest, kept for inspection
HIDDEN = "********"  # what people see instead of a secret input

VM_STEPS = (
    ("reserve", "Reserve a VMID"),
    ("clone", "Clone the template"),
    ("configure", "Set resources and cloud-init"),
    ("resize", "Grow the disk"),
    ("start", "Start the VM"),
    ("wait", "Wait for the guest agent and an address"),
    ("provision", "Run the provisioning commands"),
    ("finish", "Fill in the outputs"),
)
CT_STEPS = (
    ("reserve", "Reserve a VMID"),
    ("create", "Create the container"),
    ("configure", "Set the description and tags"),
    ("start", "Start the container"),
    ("wait", "Wait for an address"),
    ("finish", "Fill in the outputs"),
)
CLONE_STEPS = {
    "qemu": (
        ("reserve", "Reserve a VMID"),
        ("copy", "Clone the source VM"),
        ("start", "Start the VM"),
        ("wait", "Wait for the guest agent and an address"),
        ("finish", "Fill in the outputs"),
    ),
    "lxc": (
        ("reserve", "Reserve a VMID"),
        ("snapshot", "Snapshot the running source"),
        ("copy", "Clone the source container"),
        ("unsnapshot", "Remove the temporary snapshot"),
        ("start", "Start the container"),
        ("wait", "Wait for an address"),
        ("finish", "Fill in the outputs"),
    ),
}
# Steps that must not run twice: interrupted before Proxmox answered, their outcome is unknown.
NOT_REPEATABLE = ("clone", "create", "provision", "copy")


def _pending(steps) -> list[AppStep]:
    return [
        AppStep(position=i, name=name, label=label, status=StepStatus.PENDING)
        for i, (name, label) in enumerate(steps)
    ]


def deploy_plan(guest_type: str, has_provisioning: bool) -> list[AppStep]:
    """The steps of a deploy, pending."""
    steps = VM_STEPS if guest_type == "qemu" else CT_STEPS
    return _pending(s for s in steps if s[0] != "provision" or has_provisioning)


def clone_plan(guest_type: str) -> list[AppStep]:
    """The steps of a clone, pending."""
    return _pending(CLONE_STEPS[guest_type])


def snapshot_name(app: App) -> str:
    """The temporary snapshot a clone of a running container is made from."""
    return f"portal-clone-{app.id}"

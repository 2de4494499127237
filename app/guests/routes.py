"""Guest views: the guest page, its addresses, power, delete, snapshots and owner (backups are
in backups.py, settings in config.py); each calls app.services.guests and follows its task."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth.session import admin_required
from app.exceptions import ProxmoxError
from app.guests.forms import (
    ActionForm,
    DeleteForm,
    OwnerForm,
    SnapshotForm,
    valid_snapshot_name,
)
from app.models import Task
from app.observability.reports import report_proxmox_error
from app.services import ownership, tasks
from app.services.guests import ClusterResources, Guest, actions, addresses, overview
from app.services.users import list_users

bp = Blueprint("guests", __name__)

GUEST_URL = "/guests/<node>/<guest_type>/<int:vmid>"


def page_url(guest: Guest) -> str:
    return url_for("guests.show", node=guest.node, guest_type=guest.type, vmid=guest.vmid)


@bp.get(GUEST_URL)
@login_required
def show(node: str, guest_type: str, vmid: int):
    """The guest page: status, config, snapshots, recent tasks, charts and actions."""
    return _render_page(node, guest_type, vmid)


@bp.get(GUEST_URL + "/addresses")
@login_required
def ip_addresses(node: str, guest_type: str, vmid: int):
    """The guest's IP addresses: a fragment the guest page loads once it is shown."""
    try:
        lookup = addresses.look_up(ownership.find_guest(current_user, node, guest_type, vmid))
    except ProxmoxError as error:  # a fragment keeps the page: say it in place, report once
        reference = report_proxmox_error(error)
        note = f" (error reference {reference})" if reference else ""
        lookup = addresses.Lookup(problem=f"{error.message_for(current_user.is_admin)}{note}")
    return render_template("guests/_addresses.html", lookup=lookup)


def _render_page(
    node: str, guest_type: str, vmid: int, cluster: ClusterResources | None = None,
    status: int = 200, **forms,
):  # fmt: skip
    """The guest page, with any submitted form that needs correcting shown with its errors."""
    timeframe = request.args.get("timeframe", "hour")
    reads = overview.start(current_user, node, guest_type, vmid, timeframe, cluster)
    # The database's part while Proxmox answers.
    portal_tasks = {t.upid: t for t in tasks.visible(current_user, vmid=vmid, limit=50)}
    users = [u for u in list_users() if not u.is_admin] if current_user.is_admin else []
    page = reads.page()
    forms.setdefault("snapshot_form", SnapshotForm())
    forms.setdefault("delete_form", DeleteForm())
    owner_form = None
    if current_user.is_admin:
        owner_form = OwnerForm(user_id=page.owner.id if page.owner else 0)
        owner_form.offer(users)
    return (
        render_template(
            "guests/show.html", page=page, owner_form=owner_form, portal_tasks=portal_tasks,
            **forms,
        ),
        status,
    )  # fmt: skip


def start_task(guest: Guest, action: str, start: Callable[[], Task]):
    """Start a valid form's task and follow it; PVE's refusal goes back to the guest page."""
    try:
        task = start()
    except ProxmoxError as error:
        if error.kind != "api":
            raise  # Proxmox down or refusing the portal: the error page says so
        reference = report_proxmox_error(error)
        flash(
            f"Proxmox VE refused to {action} {guest.name}: {error.pve_message or error}"
            + (f" (error reference {reference})" if reference else ""),
            "error",
        )
        return redirect(page_url(guest))
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.post(GUEST_URL + "/power/<action>")
@login_required
def power(node: str, guest_type: str, vmid: int, action: str):
    """start, shutdown, stop, reboot, suspend, resume."""
    guest = ownership.find_guest(current_user, node, guest_type, vmid)
    if not actions.is_power_action(guest.type, action):
        abort(404)
    form = ActionForm()
    if not form.validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(page_url(guest))
    key = form.request_key.data
    return start_task(guest, action, lambda: actions.power(current_user, guest, action, key))


@bp.post(GUEST_URL + "/delete")
@login_required
def delete(node: str, guest_type: str, vmid: int):
    """Delete the guest and its disks, after its name was typed to confirm."""
    cluster = ownership.visible_resources(current_user)  # for the page too, if it is shown again
    guest, _ = ownership.locate(current_user, node, guest_type, vmid, cluster)
    form = DeleteForm()
    if form.validate_on_submit():
        if form.confirm_name.data.strip() == guest.name:
            key = form.request_key.data
            return start_task(guest, "delete", lambda: actions.delete(current_user, guest, key))
        form.confirm_name.errors = [f"Type {guest.name} exactly to delete this guest."]
    return _render_page(node, guest_type, vmid, cluster, status=400, delete_form=form)


@bp.post(GUEST_URL + "/snapshots")
@login_required
def create_snapshot(node: str, guest_type: str, vmid: int):
    """Take a snapshot (with RAM for running VMs when asked)."""
    cluster = ownership.visible_resources(current_user)  # for the page too, if it is shown again
    guest, _ = ownership.locate(current_user, node, guest_type, vmid, cluster)
    form = SnapshotForm()
    if not form.validate_on_submit():
        return _render_page(node, guest_type, vmid, cluster, status=400, snapshot_form=form)
    return start_task(
        guest, "snapshot",
        lambda: actions.snapshot(
            current_user, guest, form.name.data, form.description.data or "",
            bool(form.with_ram.data), form.request_key.data,
        ),
    )  # fmt: skip


@bp.post(GUEST_URL + "/snapshots/<name>/<operation>")
@login_required
def snapshot_operation(node: str, guest_type: str, vmid: int, name: str, operation: str):
    """Roll back to, or delete, one snapshot."""
    guest = ownership.find_guest(current_user, node, guest_type, vmid)
    if operation not in actions.SNAPSHOT_OPERATIONS or not valid_snapshot_name(name):
        abort(404)
    form = ActionForm()
    if not form.validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(page_url(guest))
    key = form.request_key.data
    return start_task(
        guest,
        actions.SNAPSHOT_OPERATIONS[operation],
        lambda: actions.snapshot_operation(current_user, guest, name, operation, key),
    )


@bp.post(GUEST_URL + "/owner")
@admin_required
def set_owner(node: str, guest_type: str, vmid: int):
    """Admins assign the guest to a user, or take it back."""
    guest = ownership.find_guest(current_user, node, guest_type, vmid)
    form = OwnerForm()
    users = {u.id: u for u in list_users() if not u.is_admin}
    form.offer(users.values())
    if not form.validate_on_submit():
        flash("Choose a user from the list.", "error")
        return redirect(page_url(guest))
    owner = users.get(form.user_id.data)
    ownership.set_owner(current_user, guest, owner)
    if owner:
        flash(f"{guest.name} now belongs to {owner.username}.", "success")
    else:
        flash(f"{guest.name} is no longer assigned to anyone.", "success")
    return redirect(page_url(guest))

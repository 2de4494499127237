"""A guest's backups page: back up now, and restore (over the guest, or as a new guest), delete
or protect one of its backups (app.services.guests.backups)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from app.exceptions import AppServiceError, ProxmoxError
from app.guests.forms import BackupActionForm, BackupForm
from app.guests.routes import GUEST_URL, bp, start_task
from app.observability.reports import reported_refusal
from app.services.guests import backups
from app.services.quotas import QuotaExceeded


@bp.route(GUEST_URL + "/backups", methods=["GET", "POST"], endpoint="backups")
@login_required
def backups_page(node: str, guest_type: str, vmid: int):
    """The guest's backups, and a form to back it up now."""
    page = backups.load(current_user, node, guest_type, vmid)
    form = BackupForm()
    form.storage.choices = [SelectChoice(s["storage"], s["storage"]) for s in page.storages]
    if request.method == "POST":
        if form.validate_on_submit():
            return start_task(
                page.guest, "backup",
                lambda: backups.back_up_now(
                    current_user, page.guest, form.storage.data, form.mode.data,
                    form.compress.data, form.request_key.data,
                ),
            )  # fmt: skip
        return render_template("guests/backups.html", page=page, form=form), 400
    return render_template("guests/backups.html", page=page, form=form)


@bp.post(GUEST_URL + "/backups/action")
@login_required
def backup_action(node: str, guest_type: str, vmid: int):
    """One operation on one of the guest's listed backups; a task page for restores and
    deletes, the backups page again otherwise (with what went wrong)."""
    page = backups.load(current_user, node, guest_type, vmid)
    back = url_for("guests.backups", node=node, guest_type=guest_type, vmid=vmid)
    form = BackupActionForm()
    if not form.validate():
        flash("The form expired; please try again.", "error")
        return redirect(back)
    backup = backups.find(page, form.volid.data)
    guest, operation = page.guest, form.operation.data
    try:
        if operation in ("protect", "unprotect"):
            backups.protect(current_user, guest, backup, operation == "protect")
            flash(f"The backup is {operation}ed.", "success")
            return redirect(back)
        if operation == "restore" and (form.confirm_name.data or "").strip() != guest.name:
            flash(f"Type {guest.name} exactly to restore over it.", "error")
            return redirect(back)
        if operation == "restore":
            task = backups.restore_over(current_user, guest, backup, form.request_key.data)
        elif operation == "restore-new":
            task = backups.restore_as_new(current_user, guest, backup, form.request_key.data)
        else:
            task = backups.delete(current_user, guest, backup, form.request_key.data)
    except QuotaExceeded as refusal:
        flash(reported_refusal(refusal), "error")
        return redirect(back)
    except AppServiceError as refusal:
        flash(refusal.message, "error")
        return redirect(back)
    except ProxmoxError as error:
        if error.kind != "api":
            raise
        flash(f"Proxmox VE refused: {error.public_message}", "error")
        return redirect(back)
    return redirect(url_for("tasks.show", task_id=task.id))

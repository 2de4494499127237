"""An app's scheduled backups: the form on its page that creates, changes or removes its
Proxmox backup job (app.services.apps.schedules)."""

from flask import flash, redirect, url_for
from flask_login import current_user, login_required

from app.exceptions import AppServiceError, ProxmoxError
from app.myapps.forms import schedule_form
from app.myapps.routes import bp
from app.observability.reports import report_proxmox_error
from app.services.apps import deploys, schedules


@bp.post("/my-apps/<int:deployed_id>/backups")
@login_required
def schedule(deployed_id: int):
    """Save the app's backup schedule (or remove it) in Proxmox."""
    app = deploys.get_for(current_user, deployed_id)
    form = schedule_form(app, deploys.cluster_now())
    if not form.validate():
        problems = [e for errors in form.errors.values() for e in errors]
        flash("The schedule was not saved: " + " ".join(problems), "error")
    else:
        try:
            if form.schedule.data:
                schedules.set_schedule(
                    current_user, app, form.schedule.data, form.keep.data, form.storage.data
                )
                flash(f"Backups scheduled: {schedules.label(app)}.", "success")
            else:
                schedules.remove(current_user, app)
                flash("Scheduled backups stopped (the backups made stay).", "success")
        except AppServiceError as refusal:
            flash(refusal.message, "error")
        except ProxmoxError as error:
            flash(f"Proxmox refused the schedule: {report_proxmox_error(error)}", "error")
    return redirect(url_for("myapps.show", deployed_id=app.id))

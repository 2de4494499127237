"""An app's own logs, on demand (its owner and admins): the last lines of `docker compose
logs` in its VM, secrets blanked, never cached."""

from flask import flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.exceptions import AppServiceError, ProxmoxError
from app.myapps.routes import bp
from app.observability.reports import report_proxmox_error
from app.services.apps import deploys, logs
from app.validation import PortalForm


@bp.post("/my-apps/<int:deployed_id>/logs")
@login_required
def app_logs(deployed_id: int):
    """The app's last log lines, read from its VM for this answer."""
    app = deploys.get_for(current_user, deployed_id)
    if not PortalForm().validate():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("myapps.show", deployed_id=app.id))
    try:
        text = logs.tail(app)
    except AppServiceError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("myapps.show", deployed_id=app.id))
    except ProxmoxError as error:
        flash(f"The logs could not be read: {report_proxmox_error(error)}", "error")
        return redirect(url_for("myapps.show", deployed_id=app.id))
    page = make_response(render_template("myapps/logs.html", app=app, text=text, lines=logs.LINES))
    page.headers["Cache-Control"] = "no-store"
    return page

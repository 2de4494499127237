"""Updating an app to the catalog's newest version: what changes, the inputs that are new,
and the button that starts it (a job with its own page: the app's)."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app import jobs
from app.apps.forms import INPUT_PREFIX
from app.exceptions import AppServiceError
from app.myapps.forms import update_form
from app.myapps.routes import bp
from app.services.apps import deploys, updating


@bp.route("/my-apps/<int:deployed_id>/update", methods=["GET", "POST"])
@login_required
def update(deployed_id: int):
    """GET: the update's changes and new inputs; POST: start it."""
    app = deploys.get_for(current_user, deployed_id)
    entry = updating.newer(app)
    if entry is None:
        flash(f"{app.name} runs the catalog's newest version already.", "info")
        return redirect(url_for("myapps.show", deployed_id=app.id))

    asked = updating.new_inputs(app, entry)
    form, status = update_form(asked)(), 200
    if form.is_submitted():
        status = 400
        if form.validate():
            values = {item.name: form[INPUT_PREFIX + item.name].data for item in asked}
            try:
                updating.start(current_user, app, entry, values, jobs.run_app)
                return redirect(url_for("myapps.show", deployed_id=app.id))
            except AppServiceError as refusal:
                form.form_errors.append(refusal.message)
    page = render_template(
        "myapps/update.html", app=app, entry=entry, form=form,
        changes=updating.changes(app, entry),
        fields=[form[INPUT_PREFIX + item.name] for item in asked],
    )  # fmt: skip
    return page, status

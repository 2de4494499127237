"""The base template page (admins): the cluster's base templates, their builds, and a form
that makes one on a node (a job: app.services.apps.deploy.base_template)."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SelectChoice, SelectField

from app import jobs
from app.admin.routes import bp
from app.auth.session import admin_required
from app.exceptions import AppServiceError
from app.guests.forms import ActionForm
from app.services.apps import base_builds, deploys


class BaseTemplateForm(ActionForm):
    node = SelectField("Node")
    storage = SelectField("Storage for its disk")


@bp.route("/base-template", methods=["GET", "POST"])
@admin_required
def base_template():
    """GET: what there is; POST: make the base template on the chosen node."""
    choices = base_builds.overview(deploys.cluster_now())
    holding = {t.node for t in choices.templates}
    lacking = [n for n in choices.storages if n not in holding]
    form = BaseTemplateForm(node=lacking[0] if lacking else None)
    form.node.choices = [SelectChoice(n, n) for n in choices.storages]
    names = sorted({s for found in choices.storages.values() for s in found})
    form.storage.choices = [SelectChoice(s, s) for s in names]
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            try:
                build = base_builds.start(
                    current_user, form.node.data, form.storage.data, choices, jobs.run_app
                )
                flash(f"Making the base template on {build.node}.", "success")
                return redirect(url_for("myapps.show", deployed_id=build.id))
            except AppServiceError as refusal:
                form.form_errors.append(refusal.message)
    page = render_template("admin/base_template.html", form=form, choices=choices)
    return page, status

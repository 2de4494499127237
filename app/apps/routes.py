"""Catalog views: the list of apps (category filter, search), one app's page, its deploy form."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import jobs
from app.apps.forms import INPUT_PREFIX, deploy_form, placed, show_refusal
from app.auth.session import admin_required
from app.exceptions import AppServiceError
from app.guests.forms import ActionForm
from app.services.apps import catalog, deploys, placement, updating
from app.validation import MAX_ID, int_arg

bp = Blueprint("apps", __name__)


@bp.get("/apps")
@login_required
def index():
    """Every app in the catalog, by category and search text (no Proxmox call)."""
    categories = catalog.categories()
    category = request.args.get("category", "")
    if category not in categories:
        category = ""
    text = request.args.get("q", "")[: catalog.SEARCH_MAX]
    return render_template(
        "apps/index.html",
        entries=catalog.search(category, text),
        categories=categories,
        category=category,
        q=text,
    )


@bp.get("/apps/templates")
@login_required
def templates():
    """The cluster's VM templates: each makes a VM through the deploy form (one Proxmox call)."""
    return render_template("apps/templates.html", templates=catalog.templates())


@bp.get("/apps/<app_id>")
@login_required
def show(app_id: str):
    """One app: what it is, what it needs, and whether this cluster has its source."""
    entry = catalog.get(app_id)
    resources = deploys.cluster_now()
    where = {runtime: catalog.availability(entry, runtime, resources) for runtime in entry.runtimes}
    outdated = updating.outdated(entry) if current_user.is_admin and entry.compose else []
    return render_template(
        "apps/show.html", entry=entry, where=where, outdated=outdated, form=ActionForm()
    )


@bp.post("/apps/<app_id>/update-all")
@admin_required
def update_all(app_id: str):
    """Update every running app of this entry that runs an older version (each its own job)."""
    entry = catalog.get(app_id)
    if ActionForm().validate():
        started, left = updating.start_all(current_user, entry, jobs.run_app)
        flash(f"Updating {started} app{'' if started == 1 else 's'} to {entry.version}.", "success")
        if left:
            flash(f"Left for their owners (the new version asks for more): {', '.join(left)}.",
                  "info")  # fmt: skip
    return redirect(url_for("apps.show", app_id=entry.id))


@bp.route("/apps/<app_id>/deploy", methods=["GET", "POST"])
@login_required
def deploy(app_id: str):
    """The deploy form; a valid one records the deploy, queues it and opens its page.

    An invalid one comes back with field messages, and nothing is created anywhere.
    """
    entry = catalog.get(app_id)
    runtime = request.values.get("runtime", "vm")
    options = placement.options_for(entry, runtime if runtime in entry.runtimes else "vm")
    form = deploy_form(entry, options, **_earlier_values(entry))
    if request.method == "POST":
        # A form submitted twice: its deploy exists already (its name is now taken).
        earlier = deploys.started_by(current_user, form.request_key.data or "")
        if earlier is not None:
            return redirect(url_for("myapps.show", deployed_id=earlier.id))
    status = 400 if request.method == "POST" else 200
    wanted = placed(form, options) if request.method == "POST" and form.validate() else None
    if wanted is not None:
        making = "new VM" if entry.id.startswith(catalog.TEMPLATE_PREFIX) else "deploy"
        try:
            app = deploys.start(
                current_user, entry, wanted, form.request_key.data, options.resources,
                jobs.run_app, making,
            )  # fmt: skip
            return redirect(url_for("myapps.show", deployed_id=app.id))
        except AppServiceError as refusal:
            status = show_refusal(form, refusal)
    return render_template("apps/deploy.html", entry=entry, form=form, options=options), status


def _earlier_values(entry) -> dict:
    """ "Deploy again" (?again=<app id>): the failed app's choices, secrets left out."""
    earlier = int_arg(request.args, "again", None, 1, MAX_ID, [])
    if request.method != "GET" or earlier is None:
        return {}
    app = deploys.get_for(current_user, earlier)
    if app.catalog_id != entry.id:
        return {}
    values = {f"{INPUT_PREFIX}{k}": v for k, v in app.inputs.items()}
    return dict(
        values, name=app.name, node=app.node, storage=app.storage, cores=app.cores,
        memory=app.memory, disk=app.disk, keep_on_failure=app.keep_on_failure,
    )  # fmt: skip

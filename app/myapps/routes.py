"""My apps views: the list (admins: everyone's, by owner), an app's page, its live progress."""

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import jobs
from app.apps.forms import show_refusal
from app.exceptions import AppServiceError, NotFoundError, ProxmoxError
from app.extensions import db
from app.guests.forms import ActionForm
from app.models import SETTLED
from app.myapps.forms import CloneForm, schedule_form
from app.services import quotas
from app.services.apps import catalog, deploys, generated, schedules, updating
from app.services.users import list_users
from app.validation import MAX_ID, PortalForm, int_arg

bp = Blueprint("myapps", __name__)


@bp.get("/my-apps")
@login_required
def index():
    """The user's apps; admins see every app and can pick one owner (?user=<id>)."""
    problems: list[str] = []
    owner_id = int_arg(request.args, "user", None, 1, MAX_ID, problems)
    return render_template(
        "myapps/index.html",
        apps=deploys.visible(current_user, owner_id),
        owners=list_users() if current_user.is_admin else [],
        owner_id=owner_id,
        problems=problems,
        usage=None if current_user.is_admin else _usage(),
    )


@bp.get("/my-apps/<int:deployed_id>")
@login_required
def show(deployed_id: int):
    """An app: status, steps with durations, the running step's log, outputs, and once it
    runs the guest page's buttons and charts."""
    return _render(deploys.get_for(current_user, deployed_id))


def _render(app, clone_form: CloneForm | None = None) -> str:
    page, guest_problem, cluster = None, None, None
    if app.status in SETTLED:
        cluster = deploys.cluster_now()  # the guest and the clone's nodes, one call
        try:
            timeframe = request.args.get("timeframe", "hour")
            page = deploys.guest_page(current_user, app, timeframe, cluster)
        except NotFoundError:
            guest_problem = f"Its guest ({app.guest_type}/{app.vmid}) is no longer in the cluster."
    if clone_form is None:
        clone_form = CloneForm(node=app.node, name=f"{app.name}-copy"[:63])
        if page is not None and cluster is not None:
            clone_form.node.choices = deploys.clone_nodes(app, cluster)
    return render_template(
        "myapps/show.html", app=app, entry=catalog.find(app.catalog_id), form=ActionForm(),
        page=page, guest_problem=guest_problem, input_labels=catalog.input_labels(app.catalog_id),
        clone_form=clone_form, size=deploys.size_now(app, cluster) if cluster else app,
        has_generated=generated.has_generated(app), newer=updating.newer(app),
        schedule_form=_schedule_form(app, cluster), schedule=schedules.label(app),
        **_log(app, 0),
    )  # fmt: skip


@bp.get("/my-apps/<int:deployed_id>/progress")
@login_required
def progress(deployed_id: int):
    """htmx fragment: the steps and the running step's new log lines (one Proxmox call)."""
    try:
        app = deploys.get_for(current_user, deployed_id)
    except NotFoundError:  # a clone that failed is removed: its source app says why
        source_id = int_arg(request.args, "source", 0, 0, MAX_ID, [])
        # A 404 like any app one cannot see (gone or someone else's: the same answer); htmx
        # follows HX-Redirect whatever the status.
        return "", 404, {"HX-Redirect": _after_a_failed_clone(source_id)}
    start = int_arg(request.args, "start", 0, 0, MAX_ID, [])
    fragment = render_template(
        "myapps/_progress.html", app=app, poll=True, size=app,
        input_labels=catalog.input_labels(app.catalog_id),
        **_log(app, start),
    )  # fmt: skip
    # Once it has ended, the whole page again: outputs, the guest's buttons and charts.
    return fragment, 200, ({} if app.busy else {"HX-Refresh": "true"})


def _after_a_failed_clone(source_id: int) -> str:
    """The source's page, which says why the clone failed; My apps if there is none to see."""
    try:
        source = deploys.get_for(current_user, source_id)
    except NotFoundError:
        flash("That app no longer exists: a clone that fails is removed, and its source app "
              "says why.", "error")  # fmt: skip
        return url_for("myapps.index")
    return url_for("myapps.show", deployed_id=source.id)


def _schedule_form(app, cluster):
    """The backup schedule's form, once the app's guest is there to back up."""
    return schedule_form(app, cluster) if cluster is not None else None


def _usage() -> quotas.Usage | None:
    """The user's usage against their quota; None without a quota (no Proxmox call then)."""
    if not any(limit is not None for limit in quotas.limits_of(current_user).values()):
        return None
    return quotas.usage(current_user)


def _log(app, start: int) -> dict:
    """The running step's log lines from `start`; a Proxmox hiccup is said, not raised."""
    try:
        log = deploys.current_log(app, start)
    except ProxmoxError as error:
        return {
            "lines": [],
            "next_start": start,
            "problem": error.message_for(current_user.is_admin),
        }
    if log is None:
        return {"lines": [], "next_start": 0, "problem": None}
    return {"lines": log.lines, "next_start": log.next_start, "problem": None}


@bp.post("/my-apps/<int:deployed_id>/clone")
@login_required
def clone(deployed_id: int):
    """Clone the app (a job): a new name, optionally another node; checked like a deploy."""
    source = deploys.get_for(current_user, deployed_id)
    form = CloneForm()
    # A form submitted twice: its clone exists already (and its name is now taken).
    earlier = deploys.started_by(current_user, form.request_key.data or "")
    if earlier is not None:
        return redirect(url_for("myapps.show", deployed_id=earlier.id))
    resources = deploys.cluster_now()
    form.node.choices = deploys.clone_nodes(source, resources)
    size = deploys.size_now(source, resources)  # the copy has (and counts) what is there now
    status = 400
    if form.validate():
        try:
            copy = deploys.clone(
                current_user, source, size, form.name.data, form.node.data,
                form.request_key.data, resources, jobs.run_app,
            )  # fmt: skip
            return redirect(url_for("myapps.show", deployed_id=copy.id))
        except AppServiceError as refusal:
            status = show_refusal(form, refusal)
    return _render(source, clone_form=form), status


@bp.post("/my-apps/<int:deployed_id>/secrets")
@login_required
def secrets(deployed_id: int):
    """The app's generated secrets, read from its guest for this answer only (never cached)."""
    app = deploys.get_for(current_user, deployed_id)
    if not PortalForm().validate():  # its CSRF token
        flash("The form expired; please try again.", "error")
        return redirect(url_for("myapps.show", deployed_id=app.id))
    try:
        shown = generated.reveal(current_user, app)
    except AppServiceError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("myapps.show", deployed_id=app.id))
    db.session.commit()  # the audit entry
    response = make_response(render_template("myapps/secrets.html", app=app, shown=shown))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/my-apps/<int:deployed_id>/delete")
@login_required
def delete(deployed_id: int):
    """Remove the app's guest (a job) and mark the app deleted."""
    app = deploys.get_for(current_user, deployed_id)
    form = ActionForm()
    if not form.validate():
        flash("The form expired; please try again.", "error")
    else:
        try:
            deploys.delete(current_user, app, jobs.run_app)
            flash(f"Deleting {app.name}: its guest is being removed.", "success")
        except AppServiceError as refusal:
            flash(refusal.message, "error")
    return redirect(url_for("myapps.show", deployed_id=app.id))

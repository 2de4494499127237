"""The API's catalog and apps: list, deploy, clone, update and delete. Each of the last four is
a job in the worker: the answer is the app, whose `status` and `steps` show its progress
(GET /api/v1/apps/<id> until it is no longer deploying, updating or deleting)."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from spectree import Response

from app import jobs
from app.api.base import bp, spec
from app.api.forms import NO_CSRF, checked, formdata, invalid, refused, request_key
from app.api.schemas import (
    AppList,
    AppOut,
    Catalog,
    CatalogEntryOut,
    CloneIn,
    DeployIn,
    InputOut,
    Problem,
    StepOut,
    UpdateIn,
)
from app.apps.forms import INPUT_PREFIX, deploy_form, placed
from app.catalog import CatalogEntry
from app.errors import problem
from app.exceptions import AppServiceError
from app.models import App
from app.myapps.forms import CloneForm, update_form
from app.services.apps import catalog, deploys, placement, updating

TAGS = ("apps",)
PROBLEMS = {"HTTP_401": Problem, "HTTP_404": Problem, "HTTP_409": Problem, "HTTP_422": Problem}


def app_out(app: App) -> AppOut:
    return AppOut(
        id=app.id, catalog_id=app.catalog_id, name=app.name, status=app.status,
        version=app.version, guest_type=app.guest_type, node=app.node, vmid=app.vmid,
        ip_address=app.ip_address, cores=app.cores, memory=app.memory, disk=app.disk,
        outputs=app.outputs, error=app.error, error_reference=app.error_reference,
        update_note=app.update_note,
        steps=[StepOut(name=s.name, label=s.label, status=s.status, detail=s.detail)
               for s in app.steps],
    )  # fmt: skip


def entry_out(entry: CatalogEntry) -> CatalogEntryOut:
    return CatalogEntryOut(
        id=entry.id, name=entry.name, description=entry.description, category=entry.category,
        version=entry.version, versions=entry.versions(), runtimes=list(entry.runtimes),
        inputs=[InputOut(name=i.name, label=i.label, type=i.type, target=i.target,
                         required=i.required, default=i.default) for i in entry.form_inputs],
    )  # fmt: skip


@bp.get("/catalog")
@spec.validate(resp=Response(HTTP_200=Catalog, HTTP_401=Problem), tags=TAGS)
def list_catalog():
    """Every app the catalog offers, with the inputs a deploy takes."""
    return Catalog(apps=[entry_out(e) for e in catalog.all_apps()])


@bp.get("/apps")
@spec.validate(resp=Response(HTTP_200=AppList, HTTP_401=Problem), tags=TAGS)
def list_apps():
    """Your apps (an admin's: everyone's), newest first."""
    return AppList(apps=[app_out(a) for a in deploys.visible(current_user)])


@bp.get("/apps/<int:deployed_id>")
@spec.validate(resp=Response(HTTP_200=AppOut, **PROBLEMS), tags=TAGS)
def get_app(deployed_id: int):
    """One app, with the steps of its deploy, clone, update or delete."""
    return app_out(deploys.get_for(current_user, deployed_id))


@bp.post("/apps")
@spec.validate(json=DeployIn, resp=Response(HTTP_202=AppOut, **PROBLEMS), tags=TAGS)
def deploy(json: DeployIn):
    """Deploy a catalog app: checked as the deploy form checks it, then a job."""
    entry = catalog.get(json.catalog_id)
    if json.runtime not in entry.runtimes:
        invalid({"runtime": [f"{entry.name} runs as {', '.join(entry.runtimes)}."]})
    key = request_key(json.request_key)
    earlier = deploys.started_by(current_user, key)
    if earlier is not None:
        return app_out(earlier), 202
    options = placement.options_for(entry, json.runtime)
    form = checked(deploy_form(entry, options, formdata=_deploy_data(entry, json, key),
                               meta=NO_CSRF))  # fmt: skip
    wanted = placed(form, options)
    if wanted is None:
        invalid({field.name: list(field.errors) for field in form if field.errors})
    making = "new VM" if entry.id.startswith(catalog.TEMPLATE_PREFIX) else "deploy"
    try:
        app = deploys.start(
            current_user, entry, wanted, key, options.resources, jobs.run_app, making
        )
    except AppServiceError as refusal:
        refused(refusal)
    return app_out(app), 202


def _deploy_data(entry: CatalogEntry, json: DeployIn, key: str):
    """The deploy form's fields from the request: the catalog's defaults where it says none."""
    resources = entry.resources
    values = {
        "runtime": json.runtime, "name": json.name, "node": json.node, "storage": json.storage,
        "cores": json.cores or resources.cores.default,
        "memory": json.memory or resources.memory.default,
        "disk": json.disk or resources.disk.default,
        "version": json.version or entry.version, "keep_on_failure": json.keep_on_failure,
        "request_key": key,
    }  # fmt: skip
    for item in entry.form_inputs:
        values[INPUT_PREFIX + item.name] = json.inputs.get(item.name, item.default)
    return formdata(values)


@bp.post("/apps/<int:deployed_id>/clone")
@spec.validate(json=CloneIn, resp=Response(HTTP_202=AppOut, **PROBLEMS), tags=TAGS)
def clone(deployed_id: int, json: CloneIn):
    """A copy of the app with its configuration, checked as a deploy is."""
    source = deploys.get_for(current_user, deployed_id)
    key = request_key(json.request_key)
    earlier = deploys.started_by(current_user, key)
    if earlier is not None:
        return app_out(earlier), 202
    resources = deploys.cluster_now()
    values = {"name": json.name, "node": json.node or source.node, "request_key": key}
    form = CloneForm(formdata=formdata(values), meta=NO_CSRF)
    form.node.choices = deploys.clone_nodes(source, resources)
    checked(form)
    try:
        copy = deploys.clone(
            current_user, source, deploys.size_now(source, resources), form.name.data,
            form.node.data, key, resources, jobs.run_app,
        )  # fmt: skip
    except AppServiceError as refusal:
        refused(refusal)
    return app_out(copy), 202


@bp.post("/apps/<int:deployed_id>/update")
@spec.validate(json=UpdateIn, resp=Response(HTTP_202=AppOut, **PROBLEMS), tags=TAGS)
def update(deployed_id: int, json: UpdateIn):
    """Update the app to the catalog's newest version (a snapshot or the old container kept,
    and a rollback of its own if it fails); `inputs` gives what the new version adds."""
    app = deploys.get_for(current_user, deployed_id)
    entry = updating.newer(app)
    if entry is None:
        abort(problem(409, "Conflict", f"{app.name} runs the catalog's newest version already."))
    asked = updating.new_inputs(app, entry)
    values = {INPUT_PREFIX + i.name: json.inputs.get(i.name, i.default) for i in asked}
    values["request_key"] = request_key(json.request_key)
    form = checked(update_form(asked)(formdata=formdata(values), meta=NO_CSRF))
    try:
        updating.start(
            current_user, app, entry, {i.name: form[INPUT_PREFIX + i.name].data for i in asked},
            jobs.run_app,
        )  # fmt: skip
    except AppServiceError as refusal:
        refused(refusal)
    return app_out(app), 202


@bp.delete("/apps/<int:deployed_id>")
@spec.validate(resp=Response(HTTP_202=AppOut, **PROBLEMS), tags=TAGS)
def delete(deployed_id: int):
    """Delete the app and its guest (a job: the app ends `deleted`)."""
    app = deploys.get_for(current_user, deployed_id)
    try:
        deploys.delete(current_user, app, jobs.run_app)
    except AppServiceError as refusal:
        refused(refusal)
    return app_out(app), 202

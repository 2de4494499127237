"""Updating an app, as the web side sees it: whether the catalog has a newer version, what
changes, and starting the update (a job: app.services.apps.deploy.updates runs it)."""

from __future__ import annotations

from sqlalchemy import select

from app.catalog import CatalogEntry, compose, oci
from app.exceptions import AppServiceError
from app.extensions import db
from app.models import App, AppStatus, User
from app.services import audit
from app.services.apps import catalog, secret_inputs
from app.services.apps.deploy.plans import update_plan
from app.services.apps.deploys import Queue


def newer(app: App) -> CatalogEntry | None:
    """The app's catalog entry when it offers a version other than the one running."""
    entry = catalog.find_in_catalog(app.catalog_id)
    if entry is None or entry.compose is None or app.version in (None, entry.version):
        return None
    return entry


def changes(app: App, entry: CatalogEntry) -> list[tuple[str, str]]:
    """(before, after) of each image that changes."""
    before = sorted(app.images or [])
    after = sorted(compose.images(entry.compose or "").values())
    gone, new = [i for i in before if i not in after], [i for i in after if i not in before]
    names = {image.rsplit(":", 1)[0] for image in [*gone, *new]}
    pairs = []
    for name in sorted(names):
        old = next((i for i in gone if i.rsplit(":", 1)[0] == name), "—")
        pairs.append((old, next((i for i in new if i.rsplit(":", 1)[0] == name), "—")))
    return pairs


def new_inputs(app: App, entry: CatalogEntry) -> list:
    """The entry's form inputs the app was not deployed with (asked for before updating)."""
    known = set(app.inputs) | set(entry.secret_names())
    return [i for i in entry.form_inputs if i.target == "env" and i.name not in known]


def start(user: User, app: App, entry: CatalogEntry, values: dict, queue: Queue) -> None:
    """Record the update of app to entry's version, with values of its new inputs, and
    queue it. Only a running app can be updated."""
    if app.status != AppStatus.RUNNING:
        raise AppServiceError(f"{app.name} is {app.status}: start it first, then update it.")
    typed = {k: str(v) for k, v in values.items() if k in entry.secret_names() and v}
    app.inputs = {**app.inputs, **{k: v for k, v in values.items() if k not in typed}}
    app.sealed_secrets = secret_inputs.seal(typed)
    app.steps.clear()  # the page now follows the update
    with_data = app.guest_type == "lxc" and oci.image_of(entry.compose or "").data_path
    app.steps.extend(update_plan(app.guest_type, bool(with_data)))
    app.status, app.update_to, app.attempts = AppStatus.UPDATING, entry.version, 0
    app.lease_until, app.error, app.error_reference, app.update_note = None, None, None, None
    audit.record(user, "update", f"{app.catalog_id} {app.name} to {entry.version}", "started")
    db.session.commit()
    queue(app.id)


def outdated(entry: CatalogEntry) -> list[App]:
    """Every running app of this entry on an older version (what "update all" takes)."""
    query = select(App).where(
        App.catalog_id == entry.id, App.status == AppStatus.RUNNING,
        App.version.is_not(None), App.version != entry.version,
    )  # fmt: skip
    return list(db.session.scalars(query.order_by(App.id)))


def start_all(user: User, entry: CatalogEntry, queue: Queue) -> tuple[int, list[str]]:
    """An admin's update of every outdated app of entry, each its own job (and its own
    rollback); apps whose new version asks for new inputs are left for their owners."""
    started, left = 0, []
    for app in outdated(entry):
        if new_inputs(app, entry):
            left.append(app.name)
            continue
        start(user, app, entry, {}, queue)
        started += 1
    return started, left

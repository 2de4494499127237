"""Apps deployed from the catalog, as the web side sees them: start, clone, list, follow,
delete.

Starting a deploy writes the App and its steps, then hands the App's id to `queue` (the view
passes app.jobs.run_app); everything else happens in the worker (deploy/runner.py). Secret
inputs are sealed before they are written (secret_inputs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from app.catalog import GUEST_TYPES, CatalogEntry, compose
from app.exceptions import AppServiceError, NotFoundError
from app.extensions import db
from app.models import SETTLED, App, AppStatus, StepStatus, User
from app.proxmox import get_client
from app.proxmox.cluster import ClusterResources, cluster_resources
from app.services import audit, notifications
from app.services import tasks as task_service
from app.services.apps import admission, catalog, secret_inputs
from app.services.apps.deploy.plans import clone_plan, deploy_plan
from app.services.guests import overview

Queue = Callable[[int], object]  # hands an App's id to the worker (app.jobs.run_app)


@dataclass
class DeployRequest:
    """A checked deploy form."""

    name: str
    node: str
    storage: str
    cores: int
    memory: int  # MiB
    disk: int  # GiB
    inputs: dict[str, object] = field(repr=False)  # secrets among them: kept out of reports
    keep_on_failure: bool = False
    runtime: str = "vm"  # or "oci" (app.catalog.GUEST_TYPES)
    version: str | None = None  # one of the entry's versions (None: the newest)


def started_by(user: User, request_key: str) -> App | None:
    """The app user's form with this request key started already, if any."""
    query = select(App).where(App.request_key == request_key, App.user_id == user.id)
    return db.session.scalar(query)


def start(
    user: User, entry: CatalogEntry, wanted: DeployRequest, request_key: str,
    resources: ClusterResources, queue: Queue, operation: str = "deploy",
) -> App:  # fmt: skip
    """Record the deploy and queue it (once per request_key); returns the App.

    Admitted first (admission.py: the name, the user's deploy limits and quota,
    against `resources`), in the same step as the App is written: NameTaken, TooManyDeploys
    or QuotaExceeded refuse it.
    """
    existing = started_by(user, request_key)
    if existing is not None:
        return existing
    adds = {"guests": 1, "cores": wanted.cores, "memory": wanted.memory, "disk": wanted.disk}
    almost = admission.admit(user, wanted.name, adds, operation, resources)
    if (existing := started_by(user, request_key)) is not None:  # the same form, just before
        db.session.rollback()
        return existing
    secret_names = set(entry.secret_names())
    app = App(
        request_key=request_key, catalog_id=entry.id, name=wanted.name, user_id=user.id,
        guest_type=GUEST_TYPES[wanted.runtime], node=wanted.node, storage=wanted.storage,
        cores=wanted.cores, memory=wanted.memory, disk=wanted.disk,
        inputs={k: v for k, v in wanted.inputs.items() if k not in secret_names},
        outputs=[], keep_on_failure=wanted.keep_on_failure, status=AppStatus.DEPLOYING, attempts=0,
        sealed_secrets=secret_inputs.seal(
            {k: str(v) for k, v in wanted.inputs.items() if k in secret_names and v}
        ),
        steps=deploy_plan(entry, wanted.runtime), **what_runs(entry, wanted.version),
    )  # fmt: skip
    db.session.add(app)
    audit.record(user, "deploy", f"{entry.id} {wanted.name} on {wanted.node}", "started")
    _tell_of_quota(user, almost)
    db.session.commit()
    queue(app.id)  # after the commit: the worker must find the row
    return app


def clone(
    user: User, source: App, size: Size, name: str, node: str, request_key: str,
    resources: ClusterResources, queue: Queue,
) -> App:  # fmt: skip
    """Record a clone of source (its catalog id, non-secret inputs, the size its guest has now;
    a new name) and queue it; admitted like a deploy (see `start`). The caller checked the
    node."""
    existing = started_by(user, request_key)
    if existing is not None:
        return existing
    if source.status not in SETTLED or source.vmid is None:
        raise AppServiceError(
            f"{source.name} is {source.status}: only a running or stopped app can be cloned."
        )
    adds = {"guests": 1, "cores": size.cores, "memory": size.memory, "disk": size.disk}
    almost = admission.admit(user, name, adds, "clone", resources)
    if (existing := started_by(user, request_key)) is not None:
        db.session.rollback()
        return existing
    app = App(
        request_key=request_key, catalog_id=source.catalog_id, name=name, user_id=user.id,
        guest_type=source.guest_type, node=node, storage=source.storage, cores=size.cores,
        memory=size.memory, disk=size.disk, inputs=dict(source.inputs), outputs=[],
        keep_on_failure=False, status=AppStatus.DEPLOYING, attempts=0, source_id=source.id,
        version=source.version, images=source.images,
        steps=clone_plan(source.guest_type, has_health=entry_has_health(source.catalog_id)),
    )  # fmt: skip
    source.clone_error = None
    db.session.add(app)
    audit.record(user, "clone", f"{source.catalog_id} {source.name} to {name} on {node}", "started")
    _tell_of_quota(user, almost)
    db.session.commit()
    queue(app.id)
    return app


def clone_nodes(app: App, resources: ClusterResources) -> list[str]:
    """Where a clone can go: the app's node, or an online node sharing its storage (PVE copies
    a guest on local storage only on its own node)."""
    shared = {s.node for s in resources.storages if s.name == app.storage and s.shared}
    return [
        n.name for n in resources.nodes if n.online and (n.name == app.node or n.name in shared)
    ]


def _tell_of_quota(user: User, almost: list[str]) -> None:
    """A word to the user when this deploy or clone takes a quota to 90 % or more."""
    if almost:
        notifications.emit(user, "quota-almost", "Your quota is almost used",
                           f"With this, you use {'; '.join(almost)}.")  # fmt: skip


def what_runs(entry: CatalogEntry, version: str | None) -> dict:
    """An app's version and images for its row (none for a VM from a template)."""
    if entry.compose is None:
        return {"version": None, "images": None}
    chosen = version or entry.version
    return {"version": chosen, "images": sorted(compose.images(entry.compose_for(chosen)).values())}


def entry_has_health(catalog_id: str) -> bool:
    """True when the app's catalog entry has a health check (a Compose app)."""
    entry = catalog.find_in_catalog(catalog_id)
    return entry is not None and entry.health is not None


def visible(user: User, owner_id: int | None = None) -> list[App]:
    """Newest first: a user's own apps; for admins every app (or one owner's)."""
    query = select(App).order_by(App.created_at.desc(), App.id.desc()).limit(500)
    if not user.is_admin:
        query = query.where(App.user_id == user.id, App.status != AppStatus.DELETED)
    elif owner_id is not None:
        query = query.where(App.user_id == owner_id)
    return list(db.session.scalars(query))


def get_for(user: User, app_id: int) -> App:
    """The app if user may see it (its owner, or an admin); NotFoundError otherwise."""
    app = db.session.get(App, app_id)
    if app is None or not (user.is_admin or app.user_id == user.id):
        raise NotFoundError("There is no such app that you can see.")
    return app


def delete(user: User, app: App, queue: Queue) -> None:
    """Queue the removal of the app's guest; the app is marked deleted when it is gone."""
    if app.busy:
        raise AppServiceError(f"{app.name} is {app.status}; wait until that has ended.")
    if app.status == AppStatus.DELETED:
        raise AppServiceError(f"{app.name} is deleted already.")
    app.status, app.lease_until, app.attempts, app.error = AppStatus.DELETING, None, 0, None
    audit.record(user, "delete-app", f"{app.catalog_id} {app.name}", "started")
    db.session.commit()
    queue(app.id)


def guest_page(
    user: User, app: App, timeframe: str, cluster: ClusterResources
) -> overview.GuestPage:
    """The guest page's data for the app's guest (NotFoundError when it is gone)."""
    vmid = int(app.vmid or 0)
    return overview.start(user, app.node, app.guest_type, vmid, timeframe, cluster).page()


@dataclass(frozen=True)
class Size:
    """Cores, memory (MiB) and disk (GiB) of an app's guest."""

    cores: int
    memory: int
    disk: int


def cluster_now() -> ClusterResources:
    """The whole cluster, in one call: where an app's guest and a clone's nodes are."""
    return cluster_resources(get_client())


def size_now(app: App, cluster: ClusterResources) -> Size:
    """What the app's guest has now (changed in its settings or in Proxmox since the deploy),
    or what the app was deployed with when its guest is not in the cluster."""
    recorded = Size(app.cores, app.memory, app.disk)
    guest = next(
        (g for g in cluster.guests if g.vmid == app.vmid and g.type == app.guest_type), None
    )
    if guest is None:
        return recorded
    return Size(
        cores=guest.maxcpu or recorded.cores,
        memory=guest.memory_mib or recorded.memory,
        disk=guest.disk_gib or recorded.disk,
    )


def current_log(app: App, start: int) -> task_service.Progress | None:
    """New log lines of the running step's Proxmox task (at most one Proxmox call)."""
    step = next(
        (s for s in app.steps if s.status == StepStatus.RUNNING and s.task is not None), None
    )
    if step is None or step.task is None:
        return None
    return task_service.follow(step.task, start)

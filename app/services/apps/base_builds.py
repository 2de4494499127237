"""Making the portal's base template (admins): where it is already, where it can be made, and
starting a build. A build is an App of catalog id BASE_ID run by the deploy runner (its steps
are in deploy/base_template.py); its page is an app page, with its progress."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from app.catalog import BASE_ID, BASE_TEMPLATE
from app.exceptions import AppServiceError
from app.extensions import db
from app.models import App, AppStatus, User
from app.proxmox.cluster import ClusterResources, Guest
from app.services import audit
from app.services.apps.deploy.plans import base_plan
from app.services.apps.deploys import Queue


@dataclass
class BaseTemplates:
    """The cluster's base templates, the builds so far, and the choices for a new one."""

    templates: list[Guest]
    builds: list[App]
    storages: dict[str, list[str]]  # online node -> its storages for VM disks


def overview(resources: ClusterResources) -> BaseTemplates:
    """Everything the base template page shows (from one cluster/resources answer)."""
    templates = [
        g for g in resources.guests if g.template and g.type == "qemu" and g.name == BASE_TEMPLATE
    ]
    online = {n.name for n in resources.nodes if n.online}
    storages: dict[str, list[str]] = {node: [] for node in sorted(online)}
    for storage in resources.storages:
        if storage.node in online and storage.active and "images" in storage.content:
            storages[storage.node].append(storage.name)
    query = select(App).where(App.catalog_id == BASE_ID).order_by(App.id.desc()).limit(20)
    return BaseTemplates(templates, list(db.session.scalars(query)), storages)


def start(actor: User | str, node: str, storage: str, choices: BaseTemplates, queue: Queue) -> App:
    """Record a build on node (its disk on storage) and queue it; one build per node at once.
    actor: the admin, or the shell that ran `flask base-template`."""
    if storage not in choices.storages.get(node, []):
        raise AppServiceError(f"{node} is not online with a storage {storage} for VM disks.")
    busy = any(b.node == node and b.status == AppStatus.DEPLOYING for b in choices.builds)
    if busy:
        raise AppServiceError(f"The base template is being made on {node} already.")
    app = App(
        request_key=uuid.uuid4().hex, catalog_id=BASE_ID, name=BASE_TEMPLATE,
        user_id=actor.id if isinstance(actor, User) else None,
        guest_type="qemu", node=node, storage=storage, cores=1, memory=1024, disk=3,
        inputs={}, outputs=[], keep_on_failure=False, status=AppStatus.DEPLOYING, attempts=0,
        steps=base_plan(),
    )  # fmt: skip
    db.session.add(app)
    audit.record(actor, "base-template", f"{BASE_TEMPLATE} on {node}", "started")
    db.session.commit()
    queue(app.id)
    return app

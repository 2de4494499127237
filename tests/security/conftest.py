"""The security tests run on SQLite and on PostgreSQL, against a small populated portal:
admin alice, user bob owning CT 201 `db`, VM 101 `web` that is not bob's, and a task on each."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import App, AuditEntry, GuestAssignment, Quota, Task, User
from app.services import notifications
from app.services.access import tokens
from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD, signed_in
from tests.guests.conftest import CT_CONFIG, VM_CONFIG, last_task, press


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, make_app):
    """The app on each database (PostgreSQL needs TEST_DATABASE_URL; .ci/run sets it)."""
    if request.param == "sqlite":
        return make_app()
    return request.getfixturevalue("postgres_app")


@dataclass
class World:
    """Ids and values every route can be called with."""

    alice_id: int
    bob_id: int
    admin_task: int  # on VM 101, not bob's
    bob_task: int  # on bob's CT 201
    admin_app: int  # an app of alice's: VM 101
    admin_target: int  # a notification target of alice's
    admin_token: int  # an API token of alice's

    def sample(self, name: str) -> str:
        """A valid value for a URL variable."""
        return str(
            {
                "node": "pve1",
                "guest_type": "qemu",
                "vmid": 101,
                "action": "start",
                "name": "snap1",
                "operation": "rollback",
                "task_id": self.admin_task,
                "user_id": self.bob_id,
                "filename": "css/portal.css",
                "app_id": "postgresql",
                "deployed_id": self.admin_app,
                "target_id": self.admin_target,
                "token_id": self.admin_token,
                "kind": "screen",
            }[name]
        )


@pytest.fixture
def world(app, pve, accounts) -> World:
    pve.add_vm(101, "web", node="pve1", status="stopped", config=dict(VM_CONFIG))
    pve.add_ct(201, "db", node="pve1", status="running", config=dict(CT_CONFIG))
    alice = signed_in(app, "alice", ADMIN_PASSWORD)
    alice.post("/guests/pve1/lxc/201/owner", data={"user_id": _id(app, "bob")})
    press(alice, "/guests/pve1/qemu/101/power/start")
    admin_task = last_task(app).id
    press(signed_in(app, "bob", USER_PASSWORD), "/guests/pve1/lxc/201/power/reboot")
    bob_task = last_task(app).id
    return World(
        _id(app, "alice"), _id(app, "bob"), admin_task, bob_task, _app_of(app, "alice"),
        _target_of(app, "alice"), _token_of(app, "alice"),
    )  # fmt: skip


def _target_of(app, username: str) -> int:
    """A notification target of username's (a webhook nobody listens to)."""
    with app.app_context():
        user = db.session.get(User, _id(app, username))
        return notifications.add_target(user, "json://127.0.0.1:9/hook").id


def _token_of(app, username: str) -> int:
    """An API token of username's."""
    with app.app_context():
        user = db.session.get(User, _id(app, username))
        return tokens.create("test", user, "sweep", "write")[0].id


def _app_of(app, username: str) -> int:
    """A running app of username's whose guest is VM 101."""
    with app.app_context():
        row = App(
            request_key="world-app", catalog_id="gitea", name="web", user_id=_id(app, username),
            guest_type="qemu", node="pve1", storage="local-lvm", vmid=101, status="running",
            cores=1, memory=512, disk=8, inputs={"admin_user": "git"}, outputs=[], attempts=1,
        )  # fmt: skip
        db.session.add(row)
        db.session.commit()
        return row.id


def _id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


@pytest.fixture
def admin(app, world):
    return signed_in(app, "alice", ADMIN_PASSWORD)


@pytest.fixture
def user(app, world):
    return signed_in(app, "bob", USER_PASSWORD)


def table_state(app) -> dict:
    """What a request must not change: every table's rows (refused attempts aside, which the
    audit log records on purpose)."""
    with app.app_context():
        audit = select(func.count()).where(AuditEntry.result != "refused")
        state = {
            "users": [tuple(row) for row in db.session.execute(select(User.__table__))],
            "assignments": db.session.execute(select(GuestAssignment.__table__)).all(),
            "tasks": db.session.scalar(select(func.count()).select_from(Task)),
            "apps": db.session.execute(select(App.id, App.status, App.name)).all(),
            "quotas": db.session.execute(select(Quota.__table__)).all(),
            "audit": db.session.scalar(audit.select_from(AuditEntry)),
        }
        db.session.remove()
        return state


@pytest.fixture
def writes(app):
    """The INSERT/UPDATE/DELETE statements the app sends while the test runs."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)

"""flask init-db and flask users ..."""

from sqlalchemy import inspect

from app.cli import shell_actor
from app.extensions import db
from app.models import AuditEntry, User


def test_init_db_creates_and_then_keeps_the_schema(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    runner = app.test_cli_runner()
    for _ in range(2):  # a second run on a current database changes nothing
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "current schema" in result.output
    with app.app_context():
        assert "users" in inspect(db.engine).get_table_names()


def test_users_create_with_password(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "dora",
            "--role",
            "admin",
            "--email",
            "d@example.test",
            "--password",
            "dora-pass-1",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        dora = db.session.scalar(db.select(User).filter_by(username="dora"))
        assert (dora.role, dora.email) == ("admin", "d@example.test")
        assert dora.check_password("dora-pass-1")


def test_users_create_prompts_for_a_hidden_confirmed_password(app, runner):
    result = runner.invoke(args=["users", "create", "eve"], input="eve-pass-12\neve-pass-12\n")
    assert result.exit_code == 0, result.output
    assert "eve-pass-12" not in result.output  # hidden
    assert "Repeat for confirmation" in result.output
    with app.app_context():
        eve = db.session.scalar(db.select(User).filter_by(username="eve"))
        assert eve.role == "user" and eve.check_password("eve-pass-12")


def test_users_create_refuses_mismatch_duplicate_short_and_bad_role(runner, accounts):
    mismatch = runner.invoke(args=["users", "create", "fay"], input="fay-pass-12\nother-pass\n")
    assert mismatch.exit_code != 0
    duplicate = runner.invoke(args=["users", "create", "alice", "--password", "alice-pass-9"])
    assert duplicate.exit_code == 1 and "already taken" in duplicate.output
    short = runner.invoke(args=["users", "create", "gil", "--password", "short"])
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    bad_role = runner.invoke(
        args=["users", "create", "hal", "--role", "root", "--password", "hal-pass-99"]
    )
    assert bad_role.exit_code == 2


def test_users_list(runner, accounts):
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    lines = [line.split("\t") for line in result.output.splitlines()]
    assert lines == [
        ["alice", "admin", "active", "alice@example.test"],
        ["bob", "user", "active", "bob@example.test"],
    ]


def test_users_set_password(app, runner, accounts):
    result = runner.invoke(args=["users", "set-password", "bob", "--password", "new-bob-pass"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(username="bob")).check_password(
            "new-bob-pass"
        )
    missing = runner.invoke(args=["users", "set-password", "zed", "--password", "new-zed-pass"])
    assert missing.exit_code == 1 and "no user called" in missing.output


def test_users_assign(app, pve, runner, accounts):
    pve.add_vm(101, name="web-1")
    pve.add_ct(205, name="db-1")
    result = runner.invoke(args=["users", "assign", "bob", "101", "205"])
    assert result.exit_code == 0 and "bob now has guests 101, 205" in result.output
    with app.app_context():
        from app.services import ownership, users

        assert ownership.assignments_of(users.find_by_username("bob")) == {
            101: ("qemu", "web-1"),
            205: ("lxc", "db-1"),
        }
        entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.username, e.action, e.target) for e in entries] == [
            (shell_actor(), "assign", "qemu/101 on pve1"),
            (shell_actor(), "assign", "lxc/205 on pve1"),
        ]
    missing_guest = runner.invoke(args=["users", "assign", "bob", "999"])
    assert missing_guest.exit_code == 1 and "no guest with VMID 999" in missing_guest.output
    assert "sees every guest" in runner.invoke(args=["users", "assign", "alice", "1"]).output
    assert "no user called" in runner.invoke(args=["users", "assign", "zed", "1"]).output

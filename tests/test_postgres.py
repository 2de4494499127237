"""The same schema and account flows on PostgreSQL (psycopg 3).

Needs TEST_DATABASE_URL, e.g. postgresql://portal:pw@127.0.0.1/portal_test — .ci/run installs
PostgreSQL and sets it. The database is emptied before each test.
"""

from sqlalchemy import inspect

from app.extensions import db


def test_migrations_build_the_schema_on_postgresql(postgres_app):
    with postgres_app.app_context():
        assert db.engine.dialect.name == "postgresql"
        assert {"users", "alembic_version"} <= set(inspect(db.engine).get_table_names())
    result = postgres_app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output


def test_accounts_work_on_postgresql(postgres_app):
    runner = postgres_app.test_cli_runner()
    created = runner.invoke(
        args=["users", "create", "pat", "--role", "admin", "--password", "pat-pass-123"]
    )
    assert created.exit_code == 0, created.output
    duplicate = runner.invoke(args=["users", "create", "PAT", "--password", "pat-pass-123"])
    assert "already taken" in duplicate.output
    client = postgres_app.test_client()
    assert (
        client.post("/login", data={"username": "pat", "password": "pat-pass-123"}).status_code
        == 302
    )
    assert b"pat" in client.get("/admin/users").data
    assert runner.invoke(args=["users", "list"]).output.startswith("pat\tadmin\tactive")


def test_healthz_on_postgresql(postgres_app):
    response = postgres_app.test_client().get("/healthz")
    assert response.json["database"] == "ok"

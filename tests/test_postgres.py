"""The same schema and account flows on PostgreSQL (psycopg 3).

Needs TEST_DATABASE_URL, e.g. postgresql://portal:pw@127.0.0.1/portal_test — .ci/run installs
PostgreSQL and sets it. The database is emptied before each test.
"""

import os

import pytest
from sqlalchemy import create_engine, inspect, text

from app.config import normalise_database_url

URL = os.environ.get("TEST_DATABASE_URL", "")

pytestmark = pytest.mark.skipif(not URL, reason="TEST_DATABASE_URL is not set (.ci/run sets it)")


@pytest.fixture
def pg_app(make_app):
    engine = create_engine(normalise_database_url(URL))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    app = make_app(SQLALCHEMY_DATABASE_URI=normalise_database_url(URL))
    yield app
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()


def test_migrations_build_the_schema_on_postgresql(pg_app):
    from app.extensions import db

    with pg_app.app_context():
        assert db.engine.dialect.name == "postgresql"
        assert {"users", "alembic_version"} <= set(inspect(db.engine).get_table_names())
    result = pg_app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output


def test_accounts_work_on_postgresql(pg_app):
    runner = pg_app.test_cli_runner()
    created = runner.invoke(
        args=["users", "create", "pat", "--role", "admin", "--password", "pat-pass-123"]
    )
    assert created.exit_code == 0, created.output
    duplicate = runner.invoke(args=["users", "create", "PAT", "--password", "pat-pass-123"])
    assert "already taken" in duplicate.output
    client = pg_app.test_client()
    assert (
        client.post("/login", data={"username": "pat", "password": "pat-pass-123"}).status_code
        == 302
    )
    assert b"pat" in client.get("/admin/users").data
    assert runner.invoke(args=["users", "list"]).output.startswith("pat\tadmin\tactive")


def test_healthz_on_postgresql(pg_app):
    response = pg_app.test_client().get("/healthz")
    assert response.json["database"] == "ok"

"""Password guessing: limits per account and address and per address, shared through the
database, 429 with Retry-After, and failed logins in the audit log."""

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry
from tests.conftest import USER_PASSWORD


def attempt(client, username, password, address="127.0.0.1"):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_failed_logins_lock_the_account_for_that_address_only(make_app, accounts):
    client = make_app(LOGIN_RATE_LIMIT="3 per 10 minutes").test_client()
    for _ in range(3):
        assert attempt(client, "alice", "wrong-password", "203.0.113.7").status_code == 200
    locked = attempt(client, "alice", accounts["alice"], "203.0.113.7")
    assert locked.status_code == 429
    assert b"Too many failed logins for this account" in locked.data
    assert 590 <= int(locked.headers["Retry-After"]) <= 600
    # The real alice, elsewhere, is not locked out by a stranger's guesses.
    assert attempt(client, "alice", accounts["alice"], "198.51.100.4").status_code == 302


def test_one_address_cannot_try_many_accounts(make_app, accounts):
    client = make_app(LOGIN_ADDRESS_RATE_LIMIT="4 per 10 minutes").test_client()
    for n in range(4):
        assert attempt(client, f"someone{n}", "wrong-password", "203.0.113.8").status_code == 200
    locked = attempt(client, "bob", USER_PASSWORD, "203.0.113.8")
    assert locked.status_code == 429
    assert b"Too many failed logins from your address" in locked.data
    assert "Retry-After" in locked.headers
    assert attempt(client, "bob", USER_PASSWORD, "198.51.100.5").status_code == 302


def test_limits_hold_across_workers_sharing_the_database(make_app, accounts):
    # Two apps on one database stand for two gunicorn workers (or two instances).
    first = make_app(LOGIN_RATE_LIMIT="4 per 10 minutes").test_client()
    second = make_app(LOGIN_RATE_LIMIT="4 per 10 minutes").test_client()
    for client in (first, second, first, second):
        attempt(client, "alice", "wrong-password")
    assert attempt(first, "alice", accounts["alice"]).status_code == 429
    assert attempt(second, "alice", accounts["alice"]).status_code == 429


def test_failed_logins_are_audited_with_the_address(app, client, accounts):
    attempt(client, "Alice", "wrong-password", "203.0.113.9")
    attempt(client, "nobody", "wrong-password", "203.0.113.9")
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login-failed").order_by(AuditEntry.id)
        ).all()
        assert [(e.username, e.client_address, e.result) for e in entries] == [
            ("alice", "203.0.113.9", "refused"),
            ("nobody", "203.0.113.9", "refused"),
        ]
        assert all(e.user_id is None for e in entries)


def test_admins_see_failed_logins_in_the_audit_log(client, accounts, login):
    attempt(client, "bob", "wrong-password", "203.0.113.10")
    login("alice")
    page = client.get("/audit?action=login-failed").data
    assert b"203.0.113.10" in page
    assert b"user/bob" in page


def test_wrong_current_passwords_are_limited(make_app, accounts):
    client = make_app(LOGIN_RATE_LIMIT="2 per 10 minutes").test_client()
    attempt(client, "bob", USER_PASSWORD)

    def change(current):
        return client.post(
            "/account/password",
            data={
                "current_password": current,
                "password": "new-pass-1234",
                "confirm": "new-pass-1234",
            },
        )

    assert change("wrong-1").status_code == 200
    assert change("wrong-2").status_code == 200
    locked = change(USER_PASSWORD)
    assert locked.status_code == 429
    assert "Retry-After" in locked.headers

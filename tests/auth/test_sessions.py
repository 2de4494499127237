"""Sessions end when they should: logout, a new password, disabling, a role change."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services import users
from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD, csrf_token_in, signed_in


def cookie_of(client) -> str:
    return client.get_cookie("session").value


def test_a_copied_cookie_is_dead_after_logout(app, user_client):
    copy = app.test_client()
    copy.set_cookie("session", cookie_of(user_client))
    assert copy.get("/").status_code == 200
    user_client.post("/logout")
    assert copy.get("/").status_code == 302


def test_logout_ends_the_users_other_sessions(app, user_client):
    other = signed_in(app, "bob", USER_PASSWORD)
    user_client.post("/logout")
    assert other.get("/").status_code == 302


def test_a_new_password_ends_other_sessions_but_keeps_this_one(app, user_client):
    other = signed_in(app, "bob", USER_PASSWORD)
    response = user_client.post(
        "/account/password",
        data={
            "current_password": USER_PASSWORD,
            "password": "a-brand-new-pass",
            "confirm": "a-brand-new-pass",
        },
    )
    assert response.status_code == 302
    assert user_client.get("/").status_code == 200
    assert other.get("/").status_code == 302


def test_the_cli_set_password_ends_every_session(app, user_client, runner):
    result = runner.invoke(args=["users", "set-password", "bob", "--password", "reset-pass-123"])
    assert result.exit_code == 0, result.output
    assert user_client.get("/").status_code == 302


def test_disabled_then_enabled_users_old_cookies_stay_dead(app, user_client):
    old_cookie = cookie_of(user_client)
    with app.app_context():
        alice = users.find_by_username("alice")
        bob = users.find_by_username("bob")
        users.set_active(bob, False, acting=alice)
        users.set_active(bob, True, acting=alice)
        db.session.remove()
    copy = app.test_client()
    copy.set_cookie("session", old_cookie)
    assert copy.get("/").status_code == 302


@pytest.mark.parametrize("role", ["admin", "user"])
def test_a_role_change_ends_the_users_sessions(app, accounts, role):
    bob = signed_in(app, "bob", USER_PASSWORD)
    alice = signed_in(app, "alice", ADMIN_PASSWORD)
    with app.app_context():
        target = users.find_by_username("bob")
        users.set_role(target, role, acting=users.find_by_username("alice"))
        db.session.remove()
    changed = role != "user"
    assert bob.get("/").status_code == (302 if changed else 200)
    assert alice.get("/").status_code == 200


def test_the_session_is_new_after_login(make_app, accounts):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    token = csrf_token_in(client.get("/login").data)
    with client.session_transaction() as before:
        before["planted"] = "by-someone-else"
        csrf_secret = before["csrf_token"]
    client.post("/login", data={"username": "bob", "password": USER_PASSWORD, "csrf_token": token})
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after.get("csrf_token") != csrf_secret
        assert after["_user_id"].startswith(str(_id_of("bob", client.application)) + ":")


def _id_of(username, app):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))

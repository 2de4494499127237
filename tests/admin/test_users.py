"""User administration: admins manage accounts; users get 403; anonymous users log in first."""

import pytest

from app.extensions import db
from app.models import User


def user(app, name):
    with app.app_context():
        return db.session.scalar(db.select(User).filter_by(username=name))


def new_user(client, **fields):
    data = {
        "username": "carol",
        "email": "",
        "role": "user",
        "password": "carol-pass-1",
        "confirm": "carol-pass-1",
    }
    data.update(fields)
    return client.post("/admin/users/new", data=data)


def test_admin_sees_every_user(admin_client):
    page = admin_client.get("/admin/users")
    assert page.status_code == 200
    assert b"alice" in page.data and b"bob" in page.data


@pytest.mark.parametrize("url", ["/admin/users", "/admin/users/new"])
def test_user_gets_403(user_client, url):
    response = user_client.get(url)
    assert response.status_code == 403
    assert b"for administrators only" in response.data


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", "/admin/users"), ("get", "/admin/users/new"), ("post", "/admin/users/1/active")],
)
def test_anonymous_is_sent_to_login(client, accounts, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_user_cannot_change_roles(app, user_client):
    bob = user(app, "bob")
    assert (
        user_client.post(f"/admin/users/{bob.id}/role", data={"role": "admin"}).status_code == 403
    )
    assert user(app, "bob").role == "user"


def test_admin_creates_a_user_who_can_log_in(app, admin_client, client):
    response = new_user(admin_client, email="carol@example.com", role="admin")
    assert response.status_code == 302
    carol = user(app, "carol")
    assert (carol.role, carol.email, carol.active) == ("admin", "carol@example.com", True)
    assert carol.password_hash.startswith("pbkdf2:sha256:1000$")  # the tests' fast method
    admin_client.post("/logout")
    assert (
        client.post("/login", data={"username": "carol", "password": "carol-pass-1"}).status_code
        == 302
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": ""}, b"This field is required."),
        ({"username": "x" * 65}, b"Field cannot be longer than 64 characters."),
        ({"username": "bad name!"}, b"Use letters, digits"),
        ({"username": "ALICE"}, b"is already taken"),
        ({"email": "not-an-email"}, b"Invalid email address."),
        ({"role": "root"}, b"Not a valid choice"),
        ({"password": "short", "confirm": "short"}, b"Use at least 8 characters"),
        ({"confirm": "something-else"}, b"The passwords do not match."),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(app, admin_client, fields, message):
    response = new_user(admin_client, **fields)
    assert response.status_code == 200
    assert message in response.data
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 2


def test_admin_disables_and_enables_a_user(app, admin_client):
    bob = user(app, "bob")
    admin_client.post(f"/admin/users/{bob.id}/active", data={"active": "0"})
    assert user(app, "bob").active is False
    admin_client.post(f"/admin/users/{bob.id}/active", data={"active": "1"})
    assert user(app, "bob").active is True


def test_admin_changes_a_role(app, admin_client):
    bob = user(app, "bob")
    admin_client.post(f"/admin/users/{bob.id}/role", data={"role": "admin"})
    assert user(app, "bob").role == "admin"


def test_admin_cannot_lock_themselves_out(app, admin_client):
    alice = user(app, "alice")
    page = admin_client.post(
        f"/admin/users/{alice.id}/active", data={"active": "0"}, follow_redirects=True
    )
    assert b"You cannot disable your own account." in page.data
    page = admin_client.post(
        f"/admin/users/{alice.id}/role", data={"role": "user"}, follow_redirects=True
    )
    assert b"at least one active admin" in page.data
    assert (user(app, "alice").active, user(app, "alice").role) == (True, "admin")


def test_invalid_values_change_nothing(app, admin_client):
    bob = user(app, "bob")
    page = admin_client.post(
        f"/admin/users/{bob.id}/active", data={"active": "maybe"}, follow_redirects=True
    )
    assert b"nothing changed" in page.data
    page = admin_client.post(
        f"/admin/users/{bob.id}/role", data={"role": "root"}, follow_redirects=True
    )
    assert b"Choose a valid role." in page.data
    assert (user(app, "bob").active, user(app, "bob").role) == (True, "user")


@pytest.mark.parametrize("url", ["/admin/users/999/active", "/admin/users/abc/active"])
def test_unknown_or_non_numeric_user_id_is_404(admin_client, url):
    response = admin_client.post(url, data={"active": "0"})
    assert response.status_code == 404
    assert b"Error 404" in response.data


def test_passwords_are_hashed_with_argon2id_by_default(make_app):
    app = make_app(PASSWORD_HASH_METHOD=None)
    del app.config["PASSWORD_HASH_METHOD"]  # as in production, where nothing sets it
    result = app.test_cli_runner().invoke(
        args=["users", "create", "dora", "--password", "dora-pass-123"]
    )
    assert result.exit_code == 0, result.output
    assert user(app, "dora").password_hash.startswith("$argon2id$v=19$m=7168,t=5,p=1$")

"""Logging in and out: credentials, disabled users, CSRF and `next`."""

import pytest

from app.extensions import db
from app.models import User
from tests.conftest import csrf_token_in

BAD_LOGIN = b"Invalid username or password."


def post_login(client, username, password, next_url=None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"username": username, "password": password})


def test_login_success_goes_to_dashboard_and_records_time(app, client, accounts):
    response = post_login(client, "alice", accounts["alice"])
    assert response.status_code == 302
    assert response.location == "/"
    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(username="alice")).last_login_at


def test_username_is_case_insensitive(client, accounts):
    assert post_login(client, "ALICE", accounts["alice"]).status_code == 302


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong-password"), ("nobody", "whatever-pass")]
)
def test_wrong_password_and_unknown_user_get_the_same_message(client, accounts, username, password):
    response = post_login(client, username, password)
    assert response.status_code == 200
    assert BAD_LOGIN in response.data
    assert client.get("/").status_code == 302  # still anonymous


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "x", b"This field is required."),
        ("alice", "", b"This field is required."),
        ("a" * 65, "x", b"Field cannot be longer than 64 characters."),
    ],
)
def test_bad_form_input_gets_field_errors(client, accounts, username, password, message):
    response = post_login(client, username, password)
    assert response.status_code == 200
    assert message in response.data


def test_disabled_user_cannot_log_in(app, client, accounts):
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username="bob")).active = False
        db.session.commit()
    response = post_login(client, "bob", accounts["bob"])
    assert response.status_code == 200
    assert b"This account is disabled" in response.data
    assert client.get("/").status_code == 302


def test_disabling_a_user_ends_their_session(app, user_client):
    assert user_client.get("/account/password").status_code == 200
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username="bob")).active = False
        db.session.commit()
    assert user_client.get("/account/password").status_code == 302


@pytest.mark.parametrize(
    "evil",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "http:/evil.example",
        "/%0a",
        "/%0d%0aSet-Cookie:%20x=1",
        "/%09/evil.example",
    ],
)
def test_next_rejects_other_sites(client, accounts, evil):
    response = post_login(client, "alice", accounts["alice"], next_url=evil)
    assert response.location == "/"


def test_next_accepts_a_local_path(client, accounts):
    response = post_login(client, "alice", accounts["alice"], next_url="/nodes/pve1")
    assert response.location == "/nodes/pve1"


def test_anonymous_user_is_sent_to_login_with_next(client):
    response = client.get("/nodes/pve1")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_logout_is_a_post(admin_client):
    assert admin_client.get("/logout").status_code == 405
    assert admin_client.post("/logout").status_code == 302
    assert admin_client.get("/").status_code == 302


def test_csrf_rejects_a_post_without_token(make_app, accounts):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    response = client.post("/login", data={"username": "alice", "password": accounts["alice"]})
    assert response.status_code == 400
    assert b"CSRF" in response.data
    assert client.get("/").status_code == 302


def test_csrf_token_from_the_form_is_accepted(make_app, accounts):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    token = csrf_token_in(client.get("/login").data)
    response = client.post(
        "/login", data={"username": "alice", "password": accounts["alice"], "csrf_token": token}
    )
    assert response.status_code == 302

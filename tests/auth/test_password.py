"""Changing one's own password."""

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import User
from tests.conftest import USER_PASSWORD


def change(client, current, new, confirm=None):
    return client.post(
        "/account/password",
        data={"current_password": current, "password": new, "confirm": confirm or new},
    )


def test_user_changes_own_password(client, user_client):
    assert change(user_client, USER_PASSWORD, "a-brand-new-pass").status_code == 302
    user_client.post("/logout")
    old = client.post("/login", data={"username": "bob", "password": USER_PASSWORD})
    assert b"Invalid username or password." in old.data
    new = client.post("/login", data={"username": "bob", "password": "a-brand-new-pass"})
    assert new.status_code == 302


def test_wrong_current_password_is_refused(user_client):
    response = change(user_client, "not-my-password", "a-brand-new-pass")
    assert response.status_code == 200
    assert b"Your current password is not correct." in response.data


def test_short_or_mismatched_new_password_is_refused(user_client):
    assert b"at least 8 characters" in change(user_client, USER_PASSWORD, "short").data
    mismatch = change(user_client, USER_PASSWORD, "a-brand-new-pass", "another-new-pass")
    assert b"The passwords do not match." in mismatch.data


def test_anonymous_cannot_change_password(client):
    assert client.get("/account/password").status_code == 302


def test_a_hash_made_before_argon2id_still_logs_in_and_is_replaced(make_app):
    """Accounts made with werkzeug's scrypt keep working; their next login stores Argon2id."""
    app = make_app(PASSWORD_HASH_METHOD=None)
    with app.app_context():
        old = User(username="erin", role="user", password_hash=generate_password_hash(
            "erins-old-pass", method="scrypt"))  # fmt: skip
        db.session.add(old)
        db.session.commit()
    client = app.test_client()
    wrong = client.post("/login", data={"username": "erin", "password": "not-erins-pass"})
    assert b"Invalid username or password." in wrong.data
    with app.app_context():
        before = db.session.scalar(select(User.password_hash).where(User.username == "erin"))
    assert before.startswith("scrypt:")
    right = client.post("/login", data={"username": "erin", "password": "erins-old-pass"})
    assert right.status_code == 302
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.username == "erin"))
    assert stored.startswith("$argon2id$")
    client.post("/logout")
    again = client.post("/login", data={"username": "erin", "password": "erins-old-pass"})
    assert again.status_code == 302

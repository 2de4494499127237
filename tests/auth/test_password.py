"""Changing one's own password."""

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

"""Single sign-on's accounts (the browser flow against a real provider is in
tests/e2e/test_sign_in.py): made on the first sign-in and found again by issuer and subject,
never by name; the role follows the provider's group; a disabled account stays out; passwords
can be turned off."""

from __future__ import annotations

import pytest

from app.exceptions import AppServiceError
from app.extensions import db
from app.services import users
from app.services.access import sso

SSO = {
    "OIDC_ISSUER": "https://id.example.test", "OIDC_CLIENT_ID": "portal",
    "OIDC_CLIENT_SECRET": "s3cret-of-the-client", "OIDC_ADMIN_VALUE": "portal-admins",
}  # fmt: skip


def claims(subject: str, name: str, *groups: str) -> dict:
    return {"sub": subject, "preferred_username": name, "email": f"{name}@example.test",
            "groups": list(groups)}  # fmt: skip


def test_an_account_is_made_once_and_found_by_its_subject(make_app):
    app = make_app(**SSO)
    with app.app_context():
        users.create_user("dave", "local-password-1", "user")  # a local account of that name
        first = sso.account_for(claims("s-1", "dave"))
        assert first.username == "dave-2" and first.role == "user"  # not the local dave
        assert not first.check_password("")
        again = sso.account_for(claims("s-1", "david", "portal-admins"))
        assert again.id == first.id and again.role == "admin"  # the role follows the groups
        version = again.session_version
        demoted = sso.account_for(claims("s-1", "dave"))
        assert demoted.role == "user" and demoted.session_version > version
        users.set_active(demoted, False, "test")
        with pytest.raises(AppServiceError, match="disabled"):
            sso.account_for(claims("s-1", "dave"))
        with pytest.raises(AppServiceError, match="subject"):
            sso.account_for({"preferred_username": "nobody"})
        db.session.remove()


def test_the_login_page_offers_it_and_passwords_can_be_turned_off(make_app, accounts):
    plain = make_app()
    assert plain.test_client().get("/login/sso").status_code == 404  # not configured
    assert "Sign in with" not in plain.test_client().get("/login").get_data(as_text=True)
    app = make_app(**SSO, OIDC_NAME="Keycloak", PASSWORD_LOGIN=False)
    page = app.test_client().get("/login").get_data(as_text=True)
    assert "Sign in with Keycloak" in page and 'name="password"' not in page
    refused = app.test_client().post("/login", data={"username": "alice", "password": "x"})
    assert refused.status_code == 403

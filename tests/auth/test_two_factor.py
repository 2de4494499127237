"""Two-factor sign-in: turned on with a confirming code (recovery codes shown once), then the
login asks for a code after the password; a wrong code counts as a failed login, a code works
once, a recovery code works once; off with the password and a code; an admin resets it;
REQUIRE_2FA_FOR_ADMINS sends admins to turn it on first."""

from __future__ import annotations

import re
import time

import pyotp
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, RecoveryCode, User


def key_on(page: str) -> str:
    return re.search(r'<code id="totp-key">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")


def code_for(key: str, offset: int = 0) -> str:
    return pyotp.TOTP(key).at(time.time() + 30 * offset)


def turn_on(client) -> tuple[str, list[str]]:
    """Turn it on as a user would: read the key off the page, give its code. (key, codes)"""
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert '<svg width="' in page and 'class="qr-code"' in page  # the QR code, drawn here
    key = key_on(page)
    wrong = client.post("/account/two-factor", data={"code": "000000"})
    assert wrong.status_code == 400 and "not right" in wrong.get_data(as_text=True)
    done = client.post("/account/two-factor", data={"code": code_for(key)})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.get_data(True))
    assert len(codes) == 10 and len(set(codes)) == 10
    return key, codes


def log_in(client, accounts, username: str):
    return client.post("/login", data={"username": username, "password": accounts[username]})


def test_turned_on_the_login_asks_for_a_code_after_the_password(app, client, login, accounts):
    login("bob")
    key, _ = turn_on(client)
    with app.app_context():
        bob = db.session.scalar(select(User).where(User.username == "bob"))
        assert bob.has_two_factor and key not in (bob.totp_sealed or "")  # sealed at rest
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 10
    client.post("/logout")
    first = log_in(client, accounts, "bob")
    assert first.location == "/login/code"
    assert client.get("/").status_code == 302  # the password alone is not enough
    wrong = client.post("/login/code", data={"code": "123456"})
    assert wrong.status_code == 400 and "not right" in wrong.get_data(as_text=True)
    with app.app_context():
        failed = select(func.count()).where(AuditEntry.action == "login-failed")
        assert db.session.scalar(failed) == 1  # counted against the login limits
    code = code_for(key, 1)  # the next step's code (the one just used to turn it on is spent)
    assert client.post("/login/code", data={"code": code}).location == "/"
    assert client.get("/").status_code == 200
    client.post("/logout")
    log_in(client, accounts, "bob")
    again = client.post("/login/code", data={"code": code})
    assert again.status_code == 400  # a code works once


def test_a_recovery_code_works_once(client, login, accounts):
    login("bob")
    _, codes = turn_on(client)
    client.post("/logout")
    log_in(client, accounts, "bob")
    assert client.post("/login/code", data={"code": codes[3].upper()}).location == "/"
    client.post("/logout")
    log_in(client, accounts, "bob")
    assert client.post("/login/code", data={"code": codes[3]}).status_code == 400
    assert client.post("/login/code", data={"code": codes[4]}).location == "/"
    assert "8 of your recovery codes" in client.get("/account/two-factor").get_data(True)


def test_turning_it_off_takes_the_password_and_a_code(client, login, accounts):
    login("bob")
    _, codes = turn_on(client)
    refused = client.post("/account/two-factor", data={"password": "wrong", "code": codes[0]})
    assert refused.status_code == 400
    done = client.post("/account/two-factor",
                       data={"password": accounts["bob"], "code": codes[1]})  # fmt: skip
    assert done.status_code == 302
    client.post("/logout")
    assert log_in(client, accounts, "bob").location == "/"


def test_an_admin_resets_it_for_a_locked_out_user(app, client, login, accounts):
    login("bob")
    turn_on(client)
    client.post("/logout")
    login("alice")
    with app.app_context():
        bob_id = db.session.scalar(select(User.id).where(User.username == "bob"))
    page = client.get(f"/admin/users/{bob_id}").get_data(as_text=True)
    assert "Reset two-factor sign-in" in page
    client.post(f"/admin/users/{bob_id}/two-factor-reset", data={"request_key": "a" * 32})
    with app.app_context():
        assert not db.session.get(User, bob_id).has_two_factor
        reset = select(AuditEntry).where(AuditEntry.action == "two-factor-reset")
        assert db.session.scalar(reset).username == "alice"
    client.post("/logout")
    assert log_in(client, accounts, "bob").location == "/"


def test_admins_turn_it_on_first_when_required(make_app, accounts):
    app = make_app(REQUIRE_2FA_FOR_ADMINS=True)
    from app.services import users

    with app.app_context():
        users.create_user("root", "root-password-1", "admin")
        users.create_user("plain", "plain-password-1", "user")
        db.session.remove()
    admin = app.test_client()
    admin.post("/login", data={"username": "root", "password": "root-password-1"})
    assert admin.get("/").location == "/account/two-factor"
    assert admin.get("/admin/users").location == "/account/two-factor"
    turn_on(admin)
    assert admin.get("/").status_code == 200
    plain = app.test_client()
    plain.post("/login", data={"username": "plain", "password": "plain-password-1"})
    assert plain.get("/").status_code == 200  # users may, admins must

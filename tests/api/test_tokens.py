"""Personal access tokens: made once (only a digest kept), sent as a bearer token; expired,
revoked, read-only, a disabled user's and a cookie without a token are refused as problem
details; the rate limit holds per token; the account page and the CLI make and revoke them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, utcnow
from app.services import users as user_service
from app.services.access import tokens
from tests.api.conftest import Api, make_token

KEY = {"request_key": "a" * 32}  # what the revoke button's form sends


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.data
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["instance"]
    return body


def test_a_token_is_kept_as_a_digest_and_says_whose_it_is(app, api):
    secret = make_token(app, "bob", "read")
    assert secret.startswith("pvp_") and len(secret) > 40
    with app.app_context():
        [row] = db.session.scalars(select(ApiToken)).all()
        assert row.digest == tokens.digest_of(secret) and secret not in (row.digest, row.hint)
        assert row.last_used_at is None
    me = Api(app.test_client(), secret).get("/me")
    assert me.status_code == 200
    assert me.get_json()["username"] == "bob" and me.get_json()["token_scope"] == "read"
    with app.app_context():
        assert db.session.scalars(select(ApiToken)).one().last_used_at is not None


def test_refusals_are_problem_details(app, client, login, accounts):
    anonymous = Api(app.test_client(), None).get("/me")
    assert "Bearer" in problem_of(anonymous, 401)["detail"]
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    login("bob")  # a session cookie is not a token: no CSRF surface on the API
    assert problem_of(client.get("/api/v1/me"), 401)
    assert problem_of(client.post("/api/v1/guests/1/power/start", json={}), 401)
    assert "not valid" in problem_of(Api(client, "pvp_nothing").get("/me"), 401)["detail"]
    read = Api(app.test_client(), make_token(app, "bob", "read"))
    assert "read" in problem_of(read.post("/guests/101/power/start"), 403)["detail"]
    assert problem_of(read.get("/nowhere"), 404)
    assert problem_of(read.client.put("/api/v1/me", headers=read.headers), 405)
    write = Api(app.test_client(), make_token(app, "bob", "write"))
    huge = write.client.post(
        "/api/v1/apps",
        data=b"{" + b" " * 2**21 + b"}",
        headers={**write.headers, "Content-Type": "application/json"},
    )
    assert problem_of(huge, 413)


def test_expired_revoked_and_disabled_users_tokens_stop_working(app, accounts):
    expiring, revoked, bobs = (make_token(app, name) for name in ("alice", "alice", "bob"))
    with app.app_context():
        rows = db.session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
        rows[0].expires_at = utcnow() - timedelta(seconds=1)
        tokens.revoke("test", rows[1])
        db.session.commit()
    assert "expired" in problem_of(Api(app.test_client(), expiring).get("/me"), 401)["detail"]
    assert "revoked" in problem_of(Api(app.test_client(), revoked).get("/me"), 401)["detail"]
    assert Api(app.test_client(), bobs).get("/me").status_code == 200
    with app.app_context():
        user_service.set_active(user_service.find_by_username("bob"), False, "test")
        user_service.set_active(user_service.find_by_username("bob"), True, "test")
    assert "revoked" in problem_of(Api(app.test_client(), bobs).get("/me"), 401)["detail"]
    again = make_token(app, "bob")
    with app.app_context():
        user_service.reset_password(user_service.find_by_username("bob"), "a-new-password-1")
    assert "revoked" in problem_of(Api(app.test_client(), again).get("/me"), 401)["detail"]


def test_the_rate_limit_counts_each_token_across_requests(make_app, accounts):
    app = make_app(API_RATE_LIMIT="3 per minute")
    from app.services import users

    with app.app_context():
        users.create_user("carol", "carol-password-1", "user")
        db.session.remove()
    first, second = (Api(app.test_client(), make_token(app, "carol")) for _ in range(2))
    assert [first.get("/me").status_code for _ in range(3)] == [200] * 3
    refused = first.get("/me")
    assert "more than 3 requests" in problem_of(refused, 429)["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert second.get("/me").status_code == 200  # another token has its own count


def test_the_account_page_shows_a_new_token_once_and_revokes_it(app, client, login):
    login("bob")
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "None yet." in page
    made = client.post("/account/tokens", data={"name": "ci", "scope": "write", "days": "30"})
    shown = made.get_data(as_text=True)
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    secret = shown.split('<code id="new-token">')[1].split("</code>")[0]
    assert Api(app.test_client(), secret).get("/me").get_json()["token_name"] == "ci"
    again = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in again and secret[:8] in again  # listed by its start, never whole
    too_long = client.post("/account/tokens", data={"name": "x", "scope": "read",
                                                    "days": "9999"})  # fmt: skip
    assert too_long.status_code == 400
    with app.app_context():
        token_id = db.session.scalars(select(ApiToken)).one().id
    client.post(f"/account/tokens/{token_id}/revoke", data=KEY)
    assert Api(app.test_client(), secret).get("/me").status_code == 401


def test_admins_revoke_anyones_token_and_users_only_their_own(app, accounts, login, client):
    bobs = make_token(app, "bob")
    alices = make_token(app, "alice")
    with app.app_context():
        rows = db.session.scalars(select(ApiToken).order_by(ApiToken.id))
        bob_id, alice_id = (t.id for t in rows)
    login("bob")
    assert client.post(f"/account/tokens/{alice_id}/revoke", data=KEY).status_code == 404
    login("alice")
    assert "bob-write" in client.get("/account/tokens").get_data(as_text=True)
    client.post(f"/account/tokens/{bob_id}/revoke", data=KEY)
    assert Api(app.test_client(), bobs).get("/me").status_code == 401
    assert Api(app.test_client(), alices).get("/me").status_code == 200


def test_the_cli_makes_lists_and_revokes_tokens(app, runner, accounts):
    made = runner.invoke(args=["tokens", "create", "bob", "--name", "ci", "--scope", "write",
                               "--days", "7"])  # fmt: skip
    assert made.exit_code == 0, made.output
    secret = made.output.strip()
    assert Api(app.test_client(), secret).get("/me").get_json()["token_scope"] == "write"
    listed = runner.invoke(args=["tokens", "list", "bob"])
    assert "\tci\twrite\t" in listed.output and "live" in listed.output
    token_id = listed.output.split("\t")[0]
    assert runner.invoke(args=["tokens", "revoke", token_id]).exit_code == 0
    assert "revoked" in runner.invoke(args=["tokens", "list", "bob"]).output
    assert Api(app.test_client(), secret).get("/me").status_code == 401
    refused = runner.invoke(args=["tokens", "create", "bob", "--name", "x", "--days", "0"])
    assert refused.exit_code != 0 and "1 to" in refused.output

"""API failures reach Sentry by the pages' rules: one event, tagged by error type, with the
token's user as the Sentry user and a tag saying a token made the request, never the token
itself; the answer is problem details with the event's reference."""

from __future__ import annotations

from app.extensions import db
from app.services import ownership
from app.services import users as user_service
from tests.api.conftest import Api, make_token
from tests.conftest import USER_PASSWORD, assert_no_secrets


def test_a_refused_request_is_one_event_with_the_tokens_user(sentry, guests):
    app, transport = sentry()
    with app.app_context():
        bob = user_service.create_user("bob", USER_PASSWORD, "user", "bob@example.test")
        (guest,) = ownership.find_by_vmids([201])
        ownership.assign(guest, bob)
        db.session.commit()
    token = make_token(app, "bob")
    api = Api(app.test_client(), token)
    refused = api.post("/guests/201/power/start")  # it runs already: Proxmox refuses
    body = refused.get_json()
    assert refused.status_code >= 400 and refused.mimetype == "application/problem+json", body
    [event] = transport.events()
    assert body["reference"] == event["event_id"]
    assert event["tags"]["error_type"] == "proxmox" and event["tags"]["request_via"] == "api-token"
    assert event["user"]["username"] == "bob" and event["tags"]["user_role"] == "user"
    assert_no_secrets(transport.payloads(), [token, token.removeprefix("pvp_")])
    assert api.get("/guests/999").status_code == 404
    assert len(transport.events()) == 1  # a 404 is no event

"""API tests: tokens made through the service, and a client that sends one."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import User
from app.services.access import tokens
from app.services.users import find_by_username
from tests.guests.conftest import assign, guests  # noqa: F401 - fixtures for the API tests


def make_token(app, username: str, scope: str = "write", days: int | None = None) -> str:
    """A new token of username's (the secret itself)."""
    with app.app_context():
        user = find_by_username(username)
        assert isinstance(user, User)
        _, secret = tokens.create("test", user, f"{username}-{scope}", scope, days)
        db.session.remove()
        return secret


class Api:
    """The test client with a token: get/post/delete a path under /api/v1."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **kwargs):
        return self.client.get("/api/v1" + path, headers=self.headers, **kwargs)

    def post(self, path: str, json: dict | None = None, **kwargs):
        return self.client.post("/api/v1" + path, json=json or {}, headers=self.headers, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.client.delete("/api/v1" + path, headers=self.headers, **kwargs)


@pytest.fixture
def api(app, accounts):
    """api(username, scope="write"): an Api client with a new token of theirs."""

    def build(username: str, scope: str = "write") -> Api:
        return Api(app.test_client(), make_token(app, username, scope))

    return build

"""The security sweep of /api/v1 with tokens, on SQLite and PostgreSQL: what each token may
call (a user's others' objects are 404, a read token's changes 403), hostile values in every
path variable, query parameter and JSON field, and every error as problem details."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api, make_token
from tests.security.conftest import table_state
from tests.security.test_sweep import PROTECTION, path_of

# Routes on alice's VM 101, her task on it and her app: bob's tokens get 404.
OTHERS = {"api.get_guest", "api.power", "api.snapshot", "api.get_task", "api.task_log",
          "api.get_app", "api.clone", "api.update", "api.delete"}  # fmt: skip
JSON_FIELDS = ("request_key", "name", "description", "with_ram", "catalog_id", "runtime",
               "node", "storage", "cores", "memory", "disk", "version", "keep_on_failure",
               "inputs")  # fmt: skip
QUERY_FIELDS = ("node", "status", "type", "q", "sort", "order", "page", "start", "quiet")
HOSTILE_JSON = {
    "2^63": 2**63, "negative": -1, "float": 1e308, "nul": "a\x00b", "control": "a\x1b[31mb",
    "long": "x" * 10_000, "unicode": "ünï©ødé 🚀 \u202e名前", "list": [1, [2]], "object": {"a": {}},
    "null": None, "true": True,
}  # fmt: skip
HOSTILE_PATH = {"2^63": "9223372036854775808", "negative": "-1", "nul": "a%00b",
                "long": "x" * 2000, "dots": "..%2F..", "unicode": "n%C3%A4me"}  # fmt: skip


def api_rules(app):
    """(endpoint, rule, method) of every API route that needs a token; reading first and
    deleting last, so that every call finds the world as it was made."""
    found = [
        (rule.endpoint, rule, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods & {"GET", "POST", "DELETE"}
        if PROTECTION.get(rule.endpoint) == "token"
    ]
    return sorted(found, key=lambda item: (("GET", "POST", "DELETE").index(item[2]), item[1].rule))


# Valid bodies, so that what a route answers is about who asks, not what they sent.
BODIES = {"api.snapshot": {"name": "sweep"}, "api.clone": {"name": "sweep-copy"}}


def send(api: Api, method: str, path: str, body=None, query=None, endpoint: str = ""):
    kwargs = {"query_string": query or {}}
    if method == "POST":
        body = BODIES.get(endpoint, {}) if body is None else body
        return api.client.post(path, json=body, headers=api.headers, **kwargs)
    return api.client.open(path, method=method, headers=api.headers, **kwargs)


def assert_problem_if_error(response, where: str) -> None:
    assert response.status_code < 500, where
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json", where
        assert response.get_json()["status"] == response.status_code, where


@pytest.mark.parametrize("scope", ["read", "write"])
def test_a_users_token_reaches_only_their_own(app, world, scope):
    bob = Api(app.test_client(), make_token(app, "bob", scope))
    for endpoint, rule, method in api_rules(app):
        response = send(bob, method, path_of(rule, world), endpoint=endpoint)
        where = f"{scope}: {method} {rule.rule} -> {response.status_code}"
        assert_problem_if_error(response, where)
        if method != "GET" and scope == "read":
            assert response.status_code == 403, where
        elif endpoint in OTHERS:
            assert response.status_code == 404, where
        else:
            assert response.status_code not in (401, 403), where


def test_an_admins_token_reaches_everything(app, world):
    alice = Api(app.test_client(), make_token(app, "alice", "write"))
    for endpoint, rule, method in api_rules(app):
        response = send(alice, method, path_of(rule, world), endpoint=endpoint)
        where = f"{method} {rule.rule} -> {response.status_code}"
        assert_problem_if_error(response, where)
        assert response.status_code < 400 or method != "GET", where


def test_hostile_path_variables_queries_and_bodies(app, world):
    alice = Api(app.test_client(), make_token(app, "alice", "write"))
    before = table_state(app)
    for _, rule, method in api_rules(app):
        for name in rule.arguments:
            for label, value in HOSTILE_PATH.items():
                path = path_of(rule, world, **{name: b"\x00"}).replace("%00", value)
                response = send(alice, method, path)
                assert_problem_if_error(response, f"{method} {rule.rule} {name}={label}")
    assert table_state(app) == before
    for label, value in HOSTILE_JSON.items():
        body = dict.fromkeys(JSON_FIELDS, value)
        query = {name: str(value) for name in QUERY_FIELDS}
        for _, rule, method in api_rules(app):
            path = path_of(rule, world)
            response = send(alice, method, path, body if method == "POST" else None, query)
            assert_problem_if_error(response, f"{method} {rule.rule} with {label}")

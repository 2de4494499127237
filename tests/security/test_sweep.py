"""Sweeps over every route in app.url_map: who may call it, CSRF on every state change, and
hostile values in every path variable, query parameter and form field. A new route joins the
sweeps by being added to PROTECTION; a route missing from it fails the first test. The API's
routes ("token") refuse every cookie; tests/api/test_sweep.py sweeps them with tokens."""

from __future__ import annotations

from urllib.parse import quote_from_bytes

import pytest

from tests.conftest import ADMIN_PASSWORD, csrf_token_in
from tests.security.conftest import table_state

# public: anyone; login: a logged-in user (others' guests and tasks are 404); admin: admins only;
# socket: a console's websocket, refused (403) to everyone without its page's one-time token
# (tests/console/test_socket.py opens it with one); token: the API, 401 without a bearer token.
API = ("me", "quota", "list_guests", "get_guest", "power", "snapshot", "get_task", "task_log",
       "list_catalog", "list_apps", "get_app", "deploy", "clone", "update", "delete")  # fmt: skip
PROTECTION = {
    **{f"api.{name}": "token" for name in API},
    "api.openapi": "public",
    "api.docs": "public",
    "tokens.index": "login",
    "tokens.revoke": "login",
    "auth.two_factor_page": "login",
    "auth.login_code": "public",
    "auth.sso_start": "public",  # 404 unless single sign-on is configured (NOT_CONFIGURED)
    "auth.sso_callback": "public",
    "admin.two_factor_reset": "admin",
    "static": "public",
    "auth.login": "public",
    "auth.logout": "public",
    "health.healthz": "public",
    "auth.change_password": "login",
    "dashboard.index": "login",
    "dashboard.live": "login",
    "dashboard.node": "login",
    "guests.show": "login",
    "guests.power": "login",
    "guests.delete": "login",
    "guests.create_snapshot": "login",
    "guests.snapshot_operation": "login",
    "guests.backups": "login",
    "guests.backup_action": "login",
    "guests.configure": "login",
    "guests.ip_addresses": "login",
    "console.screen": "login",
    "console.terminal": "login",
    "console.socket": "socket",
    "guests.set_owner": "admin",
    "tasks.index": "login",
    "tasks.show": "login",
    "tasks.progress": "login",
    "audit.index": "login",
    "apps.index": "login",
    "apps.show": "login",
    "apps.deploy": "login",
    "apps.templates": "login",
    "myapps.index": "login",
    "myapps.show": "login",
    "myapps.progress": "login",
    "myapps.delete": "login",
    "myapps.clone": "login",
    "myapps.secrets": "login",
    "myapps.update": "login",
    "myapps.schedule": "login",
    "myapps.app_logs": "login",
    "notify.index": "login",
    "notify.test": "login",
    "notify.delete": "login",
    "notify.all_failures": "login",
    "admin.user_list": "admin",
    "admin.user_create": "admin",
    "admin.user_role": "admin",
    "admin.user_active": "admin",
    "admin.user_show": "admin",
    "admin.base_template": "admin",
    "apps.update_all": "admin",
}
# Routes of VM 101, of the admin's task on it and of the admin's app: a plain user who does
# not own them gets 404.
OTHERS = {
    "guests.show", "guests.power", "guests.delete", "guests.create_snapshot",
    "guests.snapshot_operation", "guests.backups", "tasks.show", "tasks.progress",
    "myapps.show", "myapps.delete", "myapps.clone", "myapps.secrets", "myapps.update",
    "myapps.schedule", "myapps.app_logs", "notify.test", "notify.delete", "guests.configure",
    "guests.backup_action",
    "guests.ip_addresses", "console.screen", "console.terminal", "tokens.revoke",
}  # fmt: skip
# Routes that are 404 for everyone while their feature is off (single sign-on, here).
NOT_CONFIGURED = {"auth.sso_start", "auth.sso_callback"}
QUERY_NAMES = ("page", "vmid", "start", "quiet", "since", "until", "user", "action", "target",
               "q", "node", "status", "type", "sort", "order", "timeframe", "next",
               "category", "again")  # fmt: skip
# Every field of every form; request_key stays out so no hostile value can be a valid key
# (tests/security/test_forms.py covers that field).
FORM_NAMES = ("username", "password", "confirm", "current_password", "email", "role", "active",
              "confirm_name", "name", "description", "with_ram", "storage", "mode", "compress",
              "user_id", "node", "cores", "memory", "disk", "keep_on_failure",
              "input_postgres_user", "input_ssh_key", "runtime", "onboot", "tags", "digest",
              "schedule", "keep", "version", "target_url", "all_failures",
              "was_cores",
              "was_memory", "was_disk", "was_description", "was_onboot", "was_tags",
              "guests", "volid", "operation", "scope", "days", "code")  # fmt: skip
HOSTILE = {
    "2^63": b"9223372036854775808",
    "2^31": b"2147483648",
    "-2^31-1": b"-2147483649",
    "huge": b"99999999999999999999",
    "nul": b"a\x00b",
    "control": b"a\x1b[31mb\x7f",
    "long": b"x" * 10_000,
    "bad-utf8": b"\xff\xfe\xc3(",
    "unicode": "ünï©ødé 🚀 \u202e名前".encode(),
    "far-date": b"9999-12-31",
    "bad-date": b"0000-00-00",
    "float": b"1e309",
    "list": b"[1, 2]",
}


def rules(app, methods=("GET", "POST", "DELETE")):
    """(endpoint, rule, method) of every route."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & set(methods)):
            found.append((rule.endpoint, rule, method))
    return found


def path_of(rule, world, **changes: bytes) -> str:
    """rule's URL with sample values, or the (percent-encoded) values in changes."""
    path = rule.rule
    for name in rule.arguments:
        raw = changes.get(name, world.sample(name).encode())
        marker = f"<{rule._converters[name].__class__.__name__}:{name}>"
        for form in (f"<{name}>", f"<int:{name}>", f"<path:{name}>", marker):
            path = path.replace(form, quote_from_bytes(raw, safe="/"))
    return path


# What a browser sends to open a websocket; a console's socket is refused before it opens.
UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}  # fmt: skip


def call(client, method, path, query=b"", form=None, websocket=False):
    kwargs = {"query_string": query.decode("ascii"), "headers": UPGRADE if websocket else {}}
    if method == "POST":
        kwargs["data"] = form or b""
        kwargs["content_type"] = "application/x-www-form-urlencoded"
    response = client.open(path, method=method, **kwargs)
    response.get_data()  # keeps the body; closing releases files (static) at once
    response.close()
    return response


def encoded(names, value: bytes) -> bytes:
    return b"&".join(name.encode() + b"=" + quote_from_bytes(value).encode() for name in names)


def test_every_route_is_classified(app):
    endpoints = {endpoint for endpoint, _, _ in rules(app)}
    assert endpoints == set(PROTECTION), "classify new routes in PROTECTION (and test them)"


def test_anonymous(app, world):
    client = app.test_client()
    for endpoint, rule, method in rules(app):
        response = call(client, method, path_of(rule, world), websocket=rule.websocket)
        where = f"{method} {rule.rule}"
        assert response.status_code < 500, where
        if PROTECTION[endpoint] == "socket":
            assert response.status_code == 403, where
        elif PROTECTION[endpoint] == "token":
            assert response.status_code == 401, where
        elif PROTECTION[endpoint] == "public":
            assert (
                not response.location
                or "/login" not in response.location
                or endpoint in ("auth.logout", "auth.login_code")  # back to the login's start
            ), where
        else:
            assert response.status_code == 302, where
            assert response.location.startswith("/login?next="), where


def test_plain_user(app, world, user):
    for endpoint, rule, method in rules(app):
        if endpoint == "auth.logout":  # would end the session the sweep goes on with
            continue
        response = call(user, method, path_of(rule, world), websocket=rule.websocket)
        where = f"{method} {rule.rule}"
        if PROTECTION[endpoint] in ("admin", "socket"):
            assert response.status_code == 403, where
        elif PROTECTION[endpoint] == "token":  # a session cookie is no token
            assert response.status_code == 401, where
        elif endpoint in OTHERS:
            assert response.status_code == 404, where
        else:
            assert response.status_code < 500, where
            assert response.status_code not in (401, 403), where


def test_admin(app, world, admin):
    for endpoint, rule, method in rules(app):
        if endpoint == "auth.logout":  # would end the session the sweep goes on with
            continue
        response = call(admin, method, path_of(rule, world), websocket=rule.websocket)
        expected = {"socket": 403, "token": 401}.get(PROTECTION[endpoint])
        if endpoint in NOT_CONFIGURED:
            expected = 404
        assert response.status_code == expected or (
            response.status_code < 400 or response.status_code == 400 and method == "POST"
        ), f"{method} {rule.rule}: {response.status_code}"


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_every_state_change_needs_a_csrf_token(make_app, app, world, role):
    app = make_app(
        WTF_CSRF_ENABLED=True, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]
    )
    client = app.test_client()
    if role == "admin":
        token = csrf_token_in(client.get("/login").data)
        data = {"username": "alice", "password": ADMIN_PASSWORD, "csrf_token": token}
        assert client.post("/login", data=data).status_code == 302
    before = table_state(app)
    for endpoint, rule, method in rules(app, methods=("POST", "PUT", "PATCH", "DELETE")):
        response = call(
            client,
            method,
            path_of(rule, world),
            form=b"request_key=abc123",
            websocket=rule.websocket,
        )
        where = f"{method} {rule.rule}: {response.status_code}"
        if PROTECTION[endpoint] == "token":  # no CSRF token: no cookie counts on the API
            assert response.status_code == 401, where
            continue
        assert response.status_code == 400, where
        assert b"CSRF" in response.data
    assert table_state(app) == before


def test_hostile_path_variables(app, world, admin):
    before = table_state(app)
    for value in HOSTILE:
        for _, rule, method in rules(app):
            for name in rule.arguments:
                response = call(
                    admin,
                    method,
                    path_of(rule, world, **{name: HOSTILE[value]}),
                    websocket=rule.websocket,
                )
                assert response.status_code < 500, f"{method} {rule.rule} with {name}={value}"
    assert table_state(app) == before


@pytest.mark.parametrize("who", ["anonymous", "user", "admin"])
def test_hostile_queries_and_forms(app, world, request, who):
    client = app.test_client() if who == "anonymous" else request.getfixturevalue(who)
    before = table_state(app)
    for value in HOSTILE:
        query, form = encoded(QUERY_NAMES, HOSTILE[value]), encoded(FORM_NAMES, HOSTILE[value])
        for endpoint, rule, method in rules(app):
            if endpoint == "auth.logout" and who != "anonymous":
                continue
            response = call(
                client, method, path_of(rule, world), query, form, websocket=rule.websocket
            )
            assert response.status_code < 500, f"{method} {rule.rule} with {value}"
    assert table_state(app) == before


def test_page_views_write_nothing_but_task_syncs(app, world, admin, user, writes):
    for client in (admin, user):
        for _, rule, _ in rules(app, methods=("GET",)):
            call(client, "GET", path_of(rule, world), websocket=rule.websocket)
    assert [w for w in writes if not w.lstrip().upper().startswith("UPDATE TASKS")] == []

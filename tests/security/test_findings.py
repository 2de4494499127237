"""One test per finding of the hardening review (issue 8), on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest

from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD, signed_in
from tests.security.conftest import table_state

BIG_IDS = ["9223372036854775808", "99999999999999999999", "2147483648"]


@pytest.mark.parametrize("task_id", BIG_IDS)
@pytest.mark.parametrize("suffix", ["", "/progress"])
def test_out_of_range_task_ids_are_404(admin, task_id, suffix):
    assert admin.get(f"/tasks/{task_id}{suffix}").status_code == 404


@pytest.mark.parametrize("user_id", [*BIG_IDS, "-2147483649"])
def test_out_of_range_user_ids_are_404(admin, user_id):
    assert admin.post(f"/admin/users/{user_id}/role", data={"role": "admin"}).status_code == 404


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/tasks?vmid=9223372036854775808", b"Ignored vmid"),
        ("/tasks?vmid=-2147483649", b"Ignored vmid"),
        ("/audit?page=9223372036854775807", b"Ignored page"),
        ("/audit?page=2147483648", b"Ignored page"),
        ("/audit?until=9999-12-31", b"use a date from 1970 to 9998"),
        ("/audit?since=0001-01-01", b"use a date from 1970 to 9998"),
        ("/tasks/1/progress?start=9223372036854775808", b""),
    ],
)
def test_out_of_range_query_values_are_ignored_with_a_message(admin, url, message):
    response = admin.get(url)
    assert response.status_code == 200
    assert message in response.data


def test_a_nul_in_an_anonymous_login_is_a_field_message(app, client, accounts):
    before = table_state(app)
    response = client.post("/login", data={"username": "ali\x00ce", "password": "x"})
    assert response.status_code == 200
    assert b"Remove the control characters" in response.data
    assert table_state(app) == before


def test_a_nul_in_a_query_value_is_a_400_page(admin):
    response = admin.get("/audit?user=a%00b")
    assert response.status_code == 400
    assert b"NUL character" in response.data


def test_a_huge_body_is_refused_before_it_is_read(app, client):
    body = io.BytesIO(b"username=a&password=b")
    response = client.post(
        "/login",
        input_stream=body,
        content_type="application/x-www-form-urlencoded",
        environ_overrides={"CONTENT_LENGTH": str(200 * 1024 * 1024)},
    )
    assert response.status_code == 413
    assert b"Request Entity Too Large" in response.data
    assert body.tell() == 0  # not a byte of it was read


def test_a_chunked_body_is_refused_unread(client):
    # gunicorn passes a chunked body with no Content-Length and wsgi.input_terminated set;
    # werkzeug would silently cut its form at the limit.
    body = io.BytesIO(b"username=" + b"a" * (3 * 1024 * 1024))
    response = client.post(
        "/login",
        input_stream=body,
        content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True},
    )
    assert response.status_code == 411
    assert body.tell() == 0


def test_the_body_limit_is_configurable(make_app):
    client = make_app(MAX_CONTENT_LENGTH=100).test_client()
    assert client.post("/login", data={"username": "a" * 200, "password": "x"}).status_code == 413
    assert client.post("/login", data={"username": "a", "password": "x"}).status_code == 200


def test_security_headers(client, admin):
    for response in (client.get("/login"), admin.get("/"), admin.get("/tasks")):
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "style-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in headers


def test_hsts_when_cookies_are_secure(make_app):
    client = make_app(SESSION_COOKIE_SECURE=True).test_client()
    response = client.get("/login", base_url="https://portal.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_pages_have_no_inline_script_or_style(admin):
    for url in ("/", "/guests/pve1/qemu/101", "/tasks", "/audit", "/admin/users"):
        page = admin.get(url).data
        assert b"<script>" not in page and b" style=" not in page and b"<style" not in page
        assert b" onclick=" not in page


def test_plain_users_see_no_upid(admin, user, world):
    assert b"UPID:" in admin.get(f"/tasks/{world.admin_task}").data
    page = user.get(f"/tasks/{world.bob_task}").data
    assert page.count(b"UPID:") == 0 and b"root@pam!portal" not in page
    assert b"root@pam!portal" not in user.get("/guests/pve1/lxc/201").data


def test_plain_users_see_no_proxmox_address_when_it_times_out(make_app, app, pve, world):
    slow = make_app(
        PROXMOX_TIMEOUT=1, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]
    )
    pve.flaky_network(hang_rate=1.0, hang_secs=3)

    address = f"{pve.host}:{pve.port}".encode()
    admin_page = signed_in(slow, "alice", ADMIN_PASSWORD).get("/")
    user_page = signed_in(slow, "bob", USER_PASSWORD).get("/")
    assert admin_page.status_code == user_page.status_code == 504
    assert address in admin_page.data
    assert address not in user_page.data and b"PROXMOX_" not in user_page.data
    assert b"error reference" in user_page.data.lower() or b"Try again" in user_page.data

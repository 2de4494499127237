"""Property tests (Hypothesis) for every form: whatever is typed into it, never a 5xx; input
with at least one invalid field gets the form (or its page) again with a message, and nothing
is written."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.conftest import table_state

TEXT = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["9223372036854775808", "-2147483649", "admin", "user", "0", "1", "local",
                     "snapshot", "zstd", "ünï©ødé", "2026-01-01", ""]),
)  # fmt: skip
# Values no field of any form accepts.
INVALID = st.one_of(
    st.text(min_size=1, max_size=20).map(lambda t: t + "\x00"),
    st.text(min_size=1, max_size=5).map(lambda t: "\x1b" + t),
    st.just("x" * 5000),
)


@pytest.fixture
def forms(world):
    """form name -> (who submits it, URL, its fields; booleans are never forced invalid)."""
    guest = "/guests/pve1/qemu/101"
    return {
        "login": ("anonymous", "/login", ["username", "password"]),
        "password": ("user", "/account/password", ["current_password", "password", "confirm"]),
        "create-user": ("admin", "/admin/users/new",
                        ["username", "email", "role", "password", "confirm"]),
        "role": ("admin", f"/admin/users/{world.bob_id}/role", ["role"]),
        "active": ("admin", f"/admin/users/{world.bob_id}/active", ["active"]),
        "snapshot": ("admin", f"{guest}/snapshots", ["request_key", "name", "description"]),
        "delete": ("admin", f"{guest}/delete", ["request_key", "confirm_name"]),
        "backup": ("admin", f"{guest}/backups", ["request_key", "storage", "mode", "compress"]),
        "owner": ("admin", f"{guest}/owner", ["user_id"]),
        "power": ("admin", f"{guest}/power/start", ["request_key"]),
    }  # fmt: skip


def shows_a_message(client, response) -> bool:
    """The form again with a field or form message, or a redirect to a page that flashes one."""
    if response.status_code == 302:
        response = client.get(response.location)
    body = response.get_data()
    return b'aria-invalid="true"' in body or b"flash-error" in body


@pytest.mark.parametrize(
    "name",
    ["login", "password", "create-user", "role", "active", "snapshot", "delete", "backup",
     "owner", "power"],
)  # fmt: skip
@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_invalid_input_gets_a_message_and_writes_nothing(app, forms, request, name, data):
    who, url, fields = forms[name]
    client = app.test_client() if who == "anonymous" else request.getfixturevalue(who)
    values = {field: data.draw(TEXT, label=field) for field in fields}
    broken = data.draw(st.sampled_from(fields), label="invalid field")
    values[broken] = data.draw(INVALID, label="invalid value")
    if "with_ram" in fields:
        values["with_ram"] = data.draw(st.booleans())
    before = table_state(app)
    response = client.post(url, data=values)
    assert response.status_code < 500
    assert shows_a_message(client, response), response.get_data()[:300]
    assert table_state(app) == before

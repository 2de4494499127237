"""Snapshots: create (RAM state for QEMU only), roll back, delete, the tree, and bad names."""

import pytest

from tests.guests.conftest import last_task, press, url


def post_bodies(pve, suffix: str) -> list[bytes]:
    return [body for m, p, body in pve.requests if m == "POST" and p.endswith(suffix)]


@pytest.mark.parametrize(("kind", "vmid", "node", "ram_sent"), [
    ("qemu", 301, "pve2", True), ("lxc", 201, "pve1", False),
])  # fmt: skip
def test_snapshot_rollback_delete(app, guests, admin_client, kind, vmid, node, ram_sent):
    base = url(kind, vmid, node)
    response = press(admin_client, base + "/snapshots", name="before-upgrade",
                     description="pre 2.0", with_ram="y")  # fmt: skip
    assert "Finished: OK" in admin_client.get(response.location).data.decode()
    body = post_bodies(guests, f"/{kind}/{vmid}/snapshot")[-1]
    assert b"snapname=before-upgrade" in body
    assert (b"vmstate=1" in body) is ram_sent
    assert last_task(app).action == "snapshot"
    press(admin_client, base + "/snapshots", name="after")
    page = admin_client.get(base).data.decode()
    assert "before-upgrade" in page and "pre 2.0" in page and "You are here" in page
    assert page.index("before-upgrade") < page.index("└ after")  # a child sits below its parent

    response = press(admin_client, base + "/snapshots/before-upgrade/rollback")
    assert "Finished: OK" in admin_client.get(response.location).data.decode()
    assert last_task(app).action == "rollback"
    response = press(admin_client, base + "/snapshots/after/delete")
    assert "Finished: OK" in admin_client.get(response.location).data.decode()
    assert last_task(app).action == "delsnapshot"
    assert "└ after" not in admin_client.get(base).data.decode()


@pytest.mark.parametrize(("name", "message"), [
    ("1st", "Start with a letter"),
    ("has space", "Start with a letter"),
    ("a" * 41, "At most 40 characters"),
    ("current", "reserves"),
    ("", "This field is required"),
])  # fmt: skip
def test_invalid_snapshot_names_are_form_errors(guests, admin_client, name, message):
    guests.requests.clear()
    response = press(admin_client, url("lxc", 201, suffix="/snapshots"), name=name)
    assert response.status_code == 400
    assert message in response.data.decode()
    assert not post_bodies(guests, "/snapshot")
    # The page with the form error finds the guest once, like the plain page.
    assert [m for m, p, _ in guests.requests if p.endswith("/cluster/resources")] == ["GET"]


def test_snapshot_operation_on_bad_name_is_404(guests, admin_client):
    for suffix in ("/snapshots/x%20y/rollback", "/snapshots/s1/explode"):
        assert press(admin_client, url("lxc", 201, suffix=suffix)).status_code == 404

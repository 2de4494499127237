"""Start, shut down, stop, reboot, suspend/resume and delete, for VMs and containers."""

import pytest

from tests.guests.conftest import last_task, press, pve_calls, url


def run(client, path: str, **data):
    """Press a button, follow to the task page; returns that page's text."""
    response = press(client, path, **data)
    assert response.status_code == 302, response.data
    assert "/tasks/" in response.location
    page = client.get(response.location)
    assert page.status_code == 200
    return page.data.decode()


@pytest.mark.parametrize(("kind", "vmid", "node", "steps"), [
    ("qemu", 101, "pve1", [("start", "running"), ("suspend", "running"), ("resume", "running"),
                           ("reboot", "running"), ("shutdown", "stopped"), ("start", "running"),
                           ("stop", "stopped")]),
    ("lxc", 201, "pve1", [("shutdown", "stopped"), ("start", "running"), ("reboot", "running"),
                          ("stop", "stopped")]),
])  # fmt: skip
def test_lifecycle(app, guests, admin_client, kind, vmid, node, steps):
    for action, state in steps:
        page = run(admin_client, url(kind, vmid, node, f"/power/{action}"))
        assert "Finished: OK" in page, action
        assert guests.guest(vmid).status == state, action
        task = last_task(app)
        assert (task.action, task.vmid, task.guest_type) == (action, vmid, kind)
        assert task.status == "stopped"
        assert task.upid.startswith(f"UPID:{node}:") and task.exit_status == "OK"
    assert ("POST", f"/nodes/{node}/{kind}/{vmid}/status/{steps[-1][0]}") in pve_calls(guests)


def test_suspend_shows_resume(guests, admin_client):
    run(admin_client, url("qemu", 301, "pve2", "/power/suspend"))
    page = admin_client.get(url("qemu", 301, "pve2")).data.decode()
    assert "/power/resume" in page and "/power/suspend" not in page and "paused" in page


def test_containers_cannot_suspend(guests, admin_client):
    assert press(admin_client, url("lxc", 201, suffix="/power/suspend")).status_code == 404
    assert ("POST", "/nodes/pve1/lxc/201/status/suspend") not in pve_calls(guests)


@pytest.mark.parametrize(("kind", "vmid", "name"), [("qemu", 101, "web"), ("lxc", 201, "db")])
def test_delete_needs_the_name_typed(app, guests, admin_client, kind, vmid, name):
    if kind == "lxc":
        run(admin_client, url(kind, vmid, suffix="/power/stop"))
    wrong = press(admin_client, url(kind, vmid, suffix="/delete"), confirm_name=name + "x")
    assert wrong.status_code == 400
    assert f"Type {name} exactly" in wrong.data.decode()
    assert ("DELETE", f"/nodes/pve1/{kind}/{vmid}") not in pve_calls(guests)
    page = run(admin_client, url(kind, vmid, suffix="/delete"), confirm_name=name)
    assert "Finished: OK" in page and "Back to the dashboard" in page
    assert vmid not in [g["vmid"] for g in guests.ct_resources("root@pam")] + list(guests.vms)
    assert admin_client.get(url(kind, vmid)).status_code == 404


def test_expired_form_changes_nothing(guests, admin_client):
    response = admin_client.post(url("qemu", 101, suffix="/power/start"), data={})
    assert response.status_code == 302 and response.location.endswith(url("qemu", 101))
    assert not [c for c in pve_calls(guests, "POST")]

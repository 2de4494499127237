"""The guest page: what it shows, and how many Proxmox calls it costs."""

import time

import pytest

from tests.conftest import log_in
from tests.guests.conftest import pve_calls, url


@pytest.mark.parametrize(("kind", "vmid", "expected"), [
    ("qemu", 101, ["web", "scsi0", "local-lvm:vm-101-disk-0,size=32G", "virtio=AA:BB:CC:DD:EE:01",
                   "The web server", "prod", "Start", "Delete…"]),
    ("lxc", 201, ["db", "rootfs", "name=eth0,bridge=vmbr0,ip=dhcp", "Shut down", "Reboot",
                  "Stop…"]),
])  # fmt: skip
def test_guest_page_shows_status_config_and_actions(guests, admin_client, kind, vmid, expected):
    response = admin_client.get(url(kind, vmid))
    assert response.status_code == 200
    page = response.data.decode()
    for text in expected:
        assert text in page
    for section in ("Usage", "Snapshots", "Recent tasks", "CPU", "Memory", "Network", "Disk I/O"):
        assert section in page


def test_buttons_match_the_state(guests, admin_client):
    stopped = admin_client.get(url("qemu", 101)).data.decode()
    assert "/power/start" in stopped and "/power/shutdown" not in stopped
    running_ct = admin_client.get(url("lxc", 201)).data.decode()
    assert "/power/shutdown" in running_ct and "/power/start" not in running_ct
    assert "/power/suspend" not in running_ct  # containers cannot suspend here
    running_vm = admin_client.get(url("qemu", 301, node="pve2")).data.decode()
    assert "/power/suspend" in running_vm and "/delete" not in running_vm


def test_page_makes_six_calls_whatever_the_cluster_size(guests, admin_client):
    guests.requests.clear()
    admin_client.get(url("qemu", 101))
    first = pve_calls(guests)
    # The token's privileges are asked with the first page, then kept (PERMISSIONS_CACHE_SECONDS).
    assert first.count(("GET", "/access/permissions")) == 1
    small = [call for call in first if call[1] != "/access/permissions"]
    for i in range(60):
        guests.add_vm(1000 + i, f"extra-{i}", node=f"pve{i % 5 + 1}", status="running")
    guests.requests.clear()
    assert admin_client.get(url("qemu", 101)).status_code == 200
    assert sorted(pve_calls(guests)) == sorted(small)
    assert sorted(p for _, p in small) == [
        "/cluster/resources",
        "/nodes/pve1/qemu/101/config",
        "/nodes/pve1/qemu/101/rrddata",
        "/nodes/pve1/qemu/101/snapshot",
        "/nodes/pve1/qemu/101/status/current",
        "/nodes/pve1/tasks",
    ]


def test_the_six_calls_are_made_at_once(guests, admin_client):
    guests.slow_network(0.5)  # one after another, six calls would take 3 s; two rounds, 1 s
    started = time.monotonic()
    assert admin_client.get(url("qemu", 101)).status_code == 200
    assert time.monotonic() - started < 0.9  # one round of 0.5 s, and room to spare


def test_another_users_guest_is_not_found_before_any_call(guests, app, assign):
    """A user's VMID that is not theirs costs Proxmox nothing; their own is found as before."""
    client = log_in(app, "bob", "user")
    assign(201, "bob")
    guests.requests.clear()
    assert client.get(url("qemu", 101)).status_code == 404
    assert pve_calls(guests) == []
    assert client.get(url("lxc", 201)).status_code == 200
    assert ("GET", "/cluster/resources") in pve_calls(guests)


def test_timeframes(guests, admin_client):
    # fakepve checks `timeframe` against PVE's schema: a value it does not know would be a 502.
    for timeframe in ("hour", "day", "week"):
        page = admin_client.get(url("lxc", 201) + f"?timeframe={timeframe}")
        assert page.status_code == 200
        assert f'timeframe={timeframe}" aria-current="page"' in page.data.decode()
    fallback = admin_client.get(url("lxc", 201) + "?timeframe=year")
    assert fallback.status_code == 200
    assert 'timeframe=hour" aria-current="page"' in fallback.data.decode()


@pytest.mark.parametrize("path", [
    url("qemu", 999), url("lxc", 101), url("qemu", 101, node="pve2"), url("qemu", 101, node="nope"),
    "/guests/pve1/docker/101", url("qemu", 101, node="-pve1"), url("qemu", 101, node="pve_1"),
])  # fmt: skip
def test_unknown_guest_is_404(guests, admin_client, path):
    assert admin_client.get(path).status_code == 404


def test_calls_failing_at_once_are_one_event_with_the_first_ones_context(sentry, guests):
    app, transport = sentry()
    client = log_in(app)
    guests.fail("GET", "/nodes/pve1/qemu/101/snapshot", 500, "snapshot list broken")
    guests.fail("GET", "/nodes/pve1/qemu/101/rrddata", 500, "rrd file broken")
    response = client.get(url("qemu", 101))
    assert response.status_code == 502
    events = transport.events()
    assert len(events) == 1
    event = events[0]
    assert event["tags"]["error_type"] == "proxmox" and event["user"]["username"] == "alice"
    context = event["contexts"]["proxmox_error"]
    assert context["api_path"] == "/nodes/pve1/qemu/101/snapshot"  # first in the page's order
    assert (context["node"], str(context["vmid"])) == ("pve1", "101")
    assert context["request_path"] == "/guests/pve1/qemu/101"
    crumbs = [c["message"] for c in event["breadcrumbs"]["values"] if c["category"] == "proxmox"]
    assert "GET /nodes/pve1/qemu/101/config" in crumbs  # the calls made in pool threads too
    assert event["event_id"] in response.get_data(as_text=True)

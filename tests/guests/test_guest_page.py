"""The guest page: what it shows, and how many Proxmox calls it costs."""

import pytest

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
    small = pve_calls(guests)
    for i in range(60):
        guests.add_vm(1000 + i, f"extra-{i}", node=f"pve{i % 5 + 1}", status="running")
    guests.requests.clear()
    assert admin_client.get(url("qemu", 101)).status_code == 200
    assert pve_calls(guests) == small
    assert [p for _, p in small] == [
        "/cluster/resources",
        "/nodes/pve1/qemu/101/status/current",
        "/nodes/pve1/qemu/101/config",
        "/nodes/pve1/tasks",
        "/nodes/pve1/qemu/101/snapshot",
        "/nodes/pve1/qemu/101/rrddata",
    ]


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
    "/guests/pve1/docker/101",
])  # fmt: skip
def test_unknown_guest_is_404(guests, admin_client, path):
    assert admin_client.get(path).status_code == 404

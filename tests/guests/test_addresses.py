"""The guest page shows a guest's IP addresses: a VM's from its guest agent, a container's
from its interfaces, loaded after the page with a short timeout."""

import time

from tests.conftest import log_in
from tests.guests.conftest import pve_calls, url

AGENT_INTERFACES = [
    {"name": "lo",
     "ip-addresses": [{"ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8}]},
    {"name": "ens18", "hardware-address": "bc:24:11:00:00:09", "ip-addresses": [
        {"ip-address": "10.0.0.15", "ip-address-type": "ipv4", "prefix": 24},
        {"ip-address": "fe80::be24:11ff:fe00:9", "ip-address-type": "ipv6", "prefix": 64},
        {"ip-address": "2001:db8::15", "ip-address-type": "ipv6", "prefix": 64}]},
]  # fmt: skip


def addresses(client, kind: str, vmid: int, node: str = "pve1") -> str:
    response = client.get(url(kind, vmid, node=node, suffix="/addresses"))
    assert response.status_code == 200
    return response.data.decode()


def test_the_page_loads_the_addresses_after_itself(guests, admin_client):
    page = admin_client.get(url("lxc", 201)).data.decode()
    assert 'hx-get="/guests/pve1/lxc/201/addresses" hx-trigger="load"' in page
    stopped = admin_client.get(url("qemu", 101)).data.decode()
    assert "/addresses" not in stopped and "None while it is stopped." in stopped


def test_a_vm_shows_what_its_agent_reports(guests, admin_client):
    guests.find("pve2", 301).agent = {"interfaces": AGENT_INTERFACES}
    html = addresses(admin_client, "qemu", 301, node="pve2")
    assert "<code>10.0.0.15/24</code>" in html and "<code>2001:db8::15/64</code>" in html
    assert "127.0.0.1" not in html and "fe80::" not in html  # loopback and link-local left out
    assert "ens18" in html


def test_a_container_shows_its_interfaces(guests, admin_client):
    guests.ct(201).config["net0"] = "name=eth0,bridge=vmbr0,ip=192.0.2.7/24"
    assert "<code>192.0.2.7/24</code>" in addresses(admin_client, "lxc", 201)


def test_a_vm_without_its_agent_says_so_plainly(sentry, guests):
    app, transport = sentry()
    html = addresses(log_in(app), "qemu", 301, node="pve2")  # fakepve: agent None
    assert "Agent not running" in html
    assert transport.events() == []  # the guest's state, not a failure of the portal


def test_an_agent_that_hangs_costs_the_short_timeout_only(guests, make_app, login):
    app = make_app(GUEST_AGENT_TIMEOUT=0.5)
    client = app.test_client()
    login("alice", client=client)
    vm = guests.find("pve2", 301)
    vm.agent, vm.agent_hangs = {}, True
    guests.time_scale = 0.3  # the fake's agent then takes 3 s to fail
    started = time.monotonic()
    html = addresses(client, "qemu", 301, node="pve2")
    assert time.monotonic() - started < 2
    assert "No answer within 0.5 s" in html


def test_proxmox_away_is_said_in_place_and_reported_once(sentry, guests):
    app, transport = sentry()
    client = log_in(app)
    guests.fail("GET", "/nodes/pve1/lxc/201/interfaces", 401, "authentication failure")
    html = addresses(client, "lxc", 201)
    (event,) = transport.events()
    assert event["tags"]["error_type"] == "proxmox"
    assert f"error reference {event['event_id']}" in html
    assert pve_calls(guests)[-1] == ("GET", "/nodes/pve1/lxc/201/interfaces")

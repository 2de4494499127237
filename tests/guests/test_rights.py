"""Buttons match the token's rights: the portal asks Proxmox (/access/permissions) what its
token may do, keeps the answer briefly, and offers only those actions; the rest are disabled
with the privilege they lack."""

import re

import pytest

from app.proxmox.cluster import Guest
from app.services.guests.rights import Rights
from tests.conftest import TOKEN_VALUE
from tests.guests.conftest import pve_calls, url

# PVE 9's built-in PVEAuditor role.
AUDITOR = ("Datastore.Audit", "Mapping.Audit", "Pool.Audit", "SDN.Audit", "Sys.Audit",
           "VM.Audit", "VM.GuestAgent.Audit")  # fmt: skip
TOKEN = "portal@pve!portal"


def guest(vmid: int) -> Guest:
    return Guest(vmid=vmid, name=f"g{vmid}", type="qemu", node="pve1", status="running")


def test_the_deepest_acl_path_decides_for_a_guest():
    rights = Rights(
        {"/": frozenset({"VM.Audit", "VM.PowerMgmt"}), "/vms/7": frozenset({"VM.Audit"})}
    )
    assert rights.missing("start", guest(8)) is None
    assert rights.missing("start", guest(7)) == "VM.PowerMgmt"
    assert rights.missing("start") is None  # some guests can be started
    assert rights.missing("rollback", guest(8)) == "VM.Snapshot or VM.Snapshot.Rollback"


def test_pools_storages_and_an_unknown_answer_never_hide_what_proxmox_may_allow():
    rights = Rights({"/": frozenset({"VM.Audit"}), "/pool/lab": frozenset({"VM.Backup"}),
                     "/storage/local": frozenset({"Datastore.AllocateSpace"})})  # fmt: skip
    assert rights.missing("backup", guest(5)) is None
    assert rights.missing("delete", guest(5)) == "VM.Allocate"
    assert Rights(None).missing("delete", guest(5)) is None
    assert Rights({"/": frozenset(AUDITOR)}).missing("snapshot") == "VM.Snapshot"


@pytest.fixture
def token_app(make_app, guests):
    """The portal on an API token of portal@pve, which holds only what the test grants it."""
    guests.apitokens[TOKEN] = TOKEN_VALUE
    return make_app(PROXMOX_USER="portal@pve")


@pytest.fixture
def token_client(token_app, login):
    client = token_app.test_client()
    login("alice", client=client)
    return client


def enabled_forms(html: str) -> list[str]:
    """The action of every POST form whose submit button is not disabled (but log out)."""
    found = []
    for attributes, body in re.findall(r"<form\b([^>]*)>(.*?)</form>", html, re.S):
        action = re.search(r'action="([^"]*)"', attributes)
        enabled = re.search(r'<button type="submit"(?![^>]*disabled)', body)
        if 'method="post"' in attributes and enabled and "Log out" not in body:
            found.append(action.group(1) if action else "")
    return found


def test_a_read_only_token_gets_a_read_only_guest_page(guests, token_client):
    guests.grant(TOKEN, "/", *AUDITOR)
    node = {101: "pve1", 301: "pve2"}
    for vmid in (101, 301):
        html = token_client.get(url("qemu", vmid, node=node[vmid])).data.decode()
        assert enabled_forms(html) == [
            f"/guests/{node[vmid]}/qemu/{vmid}/owner"
        ]  # the portal's own
        assert 'disabled title="The portal\'s Proxmox token lacks VM.PowerMgmt"' in html
    backups = token_client.get(url("qemu", 101, suffix="/backups")).data.decode()
    assert enabled_forms(backups) == []
    assert "lacks VM.Backup" in backups
    settings = token_client.get(url("qemu", 101, suffix="/config")).data.decode()
    assert enabled_forms(settings) == [] and "lacks VM.Config.Memory or" in settings


def test_a_privilege_on_one_guest_shows_its_button_there_only(guests, token_client):
    guests.grant(TOKEN, "/", *AUDITOR)
    guests.grant(TOKEN, "/vms/301", "VM.Audit", "VM.PowerMgmt")
    allowed = token_client.get(url("qemu", 301, node="pve2")).data.decode()
    assert "/guests/pve2/qemu/301/power/shutdown" in enabled_forms(allowed)
    refused = token_client.get(url("lxc", 201)).data.decode()
    assert not [f for f in enabled_forms(refused) if "/power/" in f]


def test_the_answer_is_kept_for_a_while(guests, make_app, login):
    guests.apitokens[TOKEN] = TOKEN_VALUE
    for seconds, asked in ((60, 1), (0, 3)):
        client = make_app(
            PROXMOX_USER="portal@pve", PERMISSIONS_CACHE_SECONDS=seconds
        ).test_client()
        login("alice", client=client)
        guests.requests.clear()
        for _ in range(3):
            assert client.get(url("qemu", 101)).status_code == 200
        assert pve_calls(guests).count(("GET", "/access/permissions")) == asked


def test_without_an_answer_every_action_is_offered(guests, token_client):
    guests.grant(TOKEN, "/", *AUDITOR)
    guests.fail("GET", "/access/permissions", 500, "pvedaemon busy")
    html = token_client.get(url("qemu", 101)).data.decode()
    assert "/guests/pve1/qemu/101/power/start" in enabled_forms(html)  # Proxmox itself refuses

"""Requests posted at the same moment, against the portal under gunicorn (2 workers, their
threads) and its job worker, on SQLite and on PostgreSQL: with one guest left in a quota only
one of five deploys, and one of three restores as new, is accepted; four deploys of one name
(from three sessions of one user and an admin) make one guest; three restores as new take
three VMIDs."""

from __future__ import annotations

import re
import threading
import time
import uuid

import pytest
import requests

from tests.conftest import (
    ADMIN_PASSWORD,
    TOKEN_NAME,
    TOKEN_USER,
    TOKEN_VALUE,
    USER_PASSWORD,
    csrf_token_in,
    emptied_postgres,
)
from tests.e2e.conftest import Portal, start_portal

POSTGRES = {"node": "auto", "storage": "local-lvm", "cores": "1", "memory": "512", "disk": "4",
         "input_postgres_user": "app", "runtime": "oci"}  # fmt: skip
BOB_ID = 2  # tests/e2e/prepare_db.py makes alice, then bob


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def portal(request, tmp_path_factory, pve_server):
    database = {} if request.param == "sqlite" else {"DATABASE_URL": emptied_postgres()}
    portal = start_portal(
        tmp_path_factory.mktemp(request.param), pve_server, "wsgi:app", job_worker=True,
        **database,
    )  # fmt: skip
    yield portal
    portal.stop()


def posted_together(sessions: list[requests.Session], url: str, forms: list[dict]) -> list:
    """Post forms[i] from sessions[i] to url, all at the same moment (a thread each, released
    together); the responses, in order."""
    barrier = threading.Barrier(len(sessions))
    responses: list = [None] * len(sessions)

    def post(index: int) -> None:
        barrier.wait()
        responses[index] = sessions[index].post(url, data=forms[index], allow_redirects=False)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return responses


def at_once(sessions: list[requests.Session], portal: Portal, names: list[str]) -> list:
    """A deploy form, named names[i], posted from each session at the same moment."""
    forms = []
    for session, name in zip(sessions, names, strict=True):
        page = session.get(portal.url + "/apps/postgresql/deploy").text
        forms.append({**POSTGRES, "name": name, "csrf_token": csrf_token_in(page),
                      "request_key": uuid.uuid4().hex})  # fmt: skip
    return posted_together(sessions, portal.url + "/apps/postgresql/deploy", forms)


def set_guests_quota(alice: requests.Session, portal: Portal, guests: str) -> None:
    page = alice.get(f"{portal.url}/admin/users/{BOB_ID}").text
    data = {"csrf_token": csrf_token_in(page), "guests": guests, "cores": "", "memory": "",
            "disk": ""}  # fmt: skip
    saved = alice.post(f"{portal.url}/admin/users/{BOB_ID}", data=data)
    assert saved.status_code == 200 and "bob" in saved.text


def accepted(responses: list) -> list[str]:
    return [
        r.headers["Location"]
        for r in responses
        if r.status_code == 302 and re.search(r"/my-apps/\d+$", r.headers["Location"])
    ]


def guests_named(pve_server: dict, name: str) -> list[dict]:
    answer = requests.get(
        f"https://{pve_server['host']}/api2/json/cluster/resources",
        params={"type": "vm"}, verify=pve_server["cafile"], timeout=10,
        headers={"Authorization": f"PVEAPIToken={TOKEN_USER}!{TOKEN_NAME}={TOKEN_VALUE}"},
    )  # fmt: skip
    return [g for g in answer.json()["data"] if g.get("name") == name]


def test_with_one_guest_left_one_of_five_simultaneous_deploys_is_accepted(portal):
    alice = portal.session("alice", ADMIN_PASSWORD)
    set_guests_quota(alice, portal, "1")  # bob owns no guest yet
    bobs = [portal.session("bob", USER_PASSWORD) for _ in range(5)]
    tag = uuid.uuid4().hex[:6]
    responses = at_once(bobs, portal, [f"q{tag}-{i}" for i in range(5)])
    assert len(accepted(responses)) == 1, [r.status_code for r in responses]
    refused = [r for r in responses if r.status_code == 400]
    assert len(refused) == 4
    assert all("This deploy goes over your guests quota: 2 guests of 1" in r.text for r in refused)
    set_guests_quota(alice, portal, "")


def test_four_simultaneous_deploys_of_one_name_make_one_guest(portal, pve_server):
    sessions = [portal.session("bob", USER_PASSWORD) for _ in range(3)]
    sessions.append(portal.session("alice", ADMIN_PASSWORD))
    name = f"same{uuid.uuid4().hex[:6]}"
    responses = at_once(sessions, portal, [name] * 4)
    winners = accepted(responses)
    assert len(winners) == 1, [r.status_code for r in responses]
    losers = [r for r in responses if r.status_code == 400]
    assert len(losers) == 3
    assert all(f"The name {name} is taken; choose another." in r.text for r in losers)
    winner = next(s for s, r in zip(sessions, responses, strict=True) if r.status_code == 302)
    deadline = time.monotonic() + 60
    while "Running at" not in winner.get(portal.url + winners[0]).text:
        assert time.monotonic() < deadline, "the deploy never ran"
        time.sleep(0.3)
    assert len(guests_named(pve_server, name)) == 1


def backed_up(alice: requests.Session, portal: Portal, guest: str) -> str:
    """Back the guest up (the demo's fake writes the file when the task ends); its volid."""
    page = alice.get(portal.url + guest + "/backups").text
    form = {"csrf_token": csrf_token_in(page), "request_key": uuid.uuid4().hex,
            "storage": "local", "mode": "snapshot", "compress": "zstd"}  # fmt: skip
    assert "/tasks/" in alice.post(portal.url + guest + "/backups", data=form).url
    deadline = time.monotonic() + 30
    while not (found := re.search(r'type="hidden" name="volid" value="([^"]+)"',
                                  alice.get(portal.url + guest + "/backups").text)):  # fmt: skip
        assert time.monotonic() < deadline, "the backup never appeared"
        time.sleep(0.3)
    return found.group(1)


def restores_at_once(sessions: list[requests.Session], portal: Portal, guest: str, volid: str):
    """Post "restore as new" of volid from each session at the same moment; the responses."""
    forms = []
    for session in sessions:
        page = session.get(portal.url + guest + "/backups").text
        forms.append({"csrf_token": csrf_token_in(page), "request_key": uuid.uuid4().hex,
                      "volid": volid, "operation": "restore-new"})  # fmt: skip
    return posted_together(sessions, portal.url + guest + "/backups/action", forms)


def test_simultaneous_restores_as_new_count_against_the_quota_and_take_their_own_vmids(portal):
    alice = portal.session("alice", ADMIN_PASSWORD)
    guest = "/guests/pve1/lxc/202"
    volid = backed_up(alice, portal, guest)
    page = alice.get(portal.url + guest).text
    assigned = alice.post(
        portal.url + guest + "/owner",
        data={"csrf_token": csrf_token_in(page), "user_id": str(BOB_ID)},
    )
    assert assigned.status_code == 200
    bobs = [portal.session("bob", USER_PASSWORD) for _ in range(3)]
    owns = re.search(
        r"<dt>Guests</dt>\s*<dd>(\d+)", alice.get(f"{portal.url}/admin/users/{BOB_ID}").text
    )
    set_guests_quota(alice, portal, str(int(owns.group(1)) + 1))  # one guest left
    responses = restores_at_once(bobs, portal, guest, volid)
    started = [r for r in responses if "/tasks/" in r.headers.get("Location", "")]
    assert len(started) == 1, [r.headers.get("Location") for r in responses]
    set_guests_quota(alice, portal, "")
    responses = restores_at_once(bobs, portal, guest, volid)
    tasks = [r.headers.get("Location", "") for r in responses]
    assert all("/tasks/" in t for t in tasks), tasks
    vmids = set()
    for session, task in zip(bobs, tasks, strict=True):
        deadline = time.monotonic() + 30
        while "Finished: OK" not in (text := session.get(portal.url + task).text):
            assert "Finished:" not in text, text[-2000:]
            assert time.monotonic() < deadline, "a restore never finished"
            time.sleep(0.3)
        vmids.add(re.search(r"lxc/(\d+)", text).group(1))
    assert len(vmids) == 3


def test_with_one_guest_left_one_of_three_simultaneous_clones_is_accepted(portal):
    alice, bob = portal.session("alice", ADMIN_PASSWORD), portal.session("bob", USER_PASSWORD)
    set_guests_quota(alice, portal, "")
    [source] = accepted(at_once([bob], portal, [f"src{uuid.uuid4().hex[:6]}"]))
    deadline = time.monotonic() + 60
    while "Running at" not in bob.get(portal.url + source).text:
        assert time.monotonic() < deadline, "the source never ran"
        time.sleep(0.3)
    owns = re.search(
        r"<dt>Guests</dt>\s*<dd>(\d+)", alice.get(f"{portal.url}/admin/users/{BOB_ID}").text
    )
    set_guests_quota(alice, portal, str(int(owns.group(1)) + 1))
    bobs = [portal.session("bob", USER_PASSWORD) for _ in range(3)]
    forms = []
    for session in bobs:
        page = session.get(portal.url + source).text
        node = re.search(r'<option selected value="([^"]+)"', page).group(1)
        forms.append({"csrf_token": csrf_token_in(page), "request_key": uuid.uuid4().hex,
                      "name": f"copy{uuid.uuid4().hex[:6]}", "node": node})  # fmt: skip
    responses = posted_together(bobs, portal.url + source + "/clone", forms)
    assert len(accepted(responses)) == 1, [r.status_code for r in responses]
    assert all("This clone goes over your guests quota" in r.text for r in responses
               if r.status_code == 400)  # fmt: skip
    set_guests_quota(alice, portal, "")

"""The API's catalog and apps: deploy (checked like the deploy form), follow its job, clone,
update and delete, each a job answered at once; another user's app is 404."""

from __future__ import annotations

import pytest

from scripts.fakepve_demo import DemoPve
from tests.deploys.conftest import CLUSTER, served

POSTGRES = {
    "catalog_id": "postgresql", "name": "db", "runtime": "oci", "node": "pve1",
    "storage": "local-lvm", "cores": 1, "memory": 1024, "disk": 8, "version": "18.5",
    "inputs": {"postgres_user": "app"},
}  # fmt: skip


@pytest.fixture
def pve(_fakepve_pki):
    """The demo's fakepve, whose guests boot and whose apps answer (as in tests/deploys)."""
    with served(DemoPve, CLUSTER, _fakepve_pki) as fake:
        yield fake


def test_the_catalog_lists_apps_and_their_inputs(api, pve):
    catalog = api("bob", "read").get("/catalog").get_json()["apps"]
    postgres = next(a for a in catalog if a["id"] == "postgresql")
    assert postgres["versions"] == ["18.6", "18.5"] and "oci" in postgres["runtimes"]
    inputs = {i["name"]: i["target"] for i in postgres["inputs"]}
    assert inputs == {"postgres_user": "env", "login_user": "ciuser", "ssh_key": "sshkeys"}


def test_deploy_follow_update_clone_and_delete_an_app(app, api, pve):
    bob = api("bob")
    started = bob.post("/apps", json=POSTGRES)
    assert started.status_code == 202, started.data
    deployed = started.get_json()
    assert deployed["name"] == "db" and deployed["steps"][0]["name"] == "reserve"
    # The test worker runs jobs at once: the app has run by now.
    shown = bob.get(f"/apps/{deployed['id']}").get_json()
    assert shown["status"] == "running" and shown["version"] == "18.5", shown["error"]
    assert {s["status"] for s in shown["steps"]} <= {"done", "skipped"}
    assert [a["id"] for a in bob.get("/apps").get_json()["apps"]] == [deployed["id"]]

    updated = bob.post(f"/apps/{deployed['id']}/update", json={})
    assert updated.status_code == 202, updated.data
    assert bob.get(f"/apps/{deployed['id']}").get_json()["version"] == "18.6"
    assert bob.post(f"/apps/{deployed['id']}/update", json={}).status_code == 409

    copy = bob.post(f"/apps/{deployed['id']}/clone", json={"name": "db-copy"})
    assert copy.status_code == 202, copy.data
    assert bob.get(f"/apps/{copy.get_json()['id']}").get_json()["status"] == "running"

    deleted = bob.delete(f"/apps/{copy.get_json()['id']}")
    assert deleted.status_code == 202
    assert bob.get(f"/apps/{copy.get_json()['id']}").get_json()["status"] == "deleted"


def test_a_deploy_is_checked_like_the_form(api, pve):
    bob = api("bob")
    too_small = bob.post("/apps", json={**POSTGRES, "memory": 16})
    assert too_small.status_code == 422
    assert too_small.get_json()["errors"]["memory"] == ["PostgreSQL needs at least 512 MiB."]
    bad_input = bob.post("/apps", json={**POSTGRES, "inputs": {"postgres_user": "Robert'); --"}})
    assert bad_input.get_json()["errors"]["input_postgres_user"]
    assert bob.post("/apps", json={**POSTGRES, "catalog_id": "nope"}).status_code == 404
    wrong = bob.post("/apps", json={**POSTGRES, "catalog_id": "gitea", "runtime": "oci"})
    assert wrong.status_code == 422 and "runtime" in wrong.get_json()["errors"]
    assert bob.post("/apps", json=POSTGRES).status_code == 202
    taken = bob.post("/apps", json=POSTGRES)
    assert taken.status_code == 409 and taken.get_json()["errors"]["name"]


def test_another_users_app_is_not_found(api, pve):
    alice = api("alice")
    mine = alice.post("/apps", json=POSTGRES).get_json()
    bob = api("bob")
    for answer in (
        bob.get(f"/apps/{mine['id']}"), bob.delete(f"/apps/{mine['id']}"),
        bob.post(f"/apps/{mine['id']}/clone", json={"name": "theirs"}),
        bob.post(f"/apps/{mine['id']}/update", json={}),
    ):  # fmt: skip
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
    assert bob.get("/apps").get_json()["apps"] == []

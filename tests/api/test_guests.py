"""The API's guests and tasks: a user's token sees and acts on their guests only (another's is
404, as on the pages); a power action or a snapshot answers its task, whose log is followed
until it stops; bad values get the form's own messages."""

from __future__ import annotations


def follow(api, task: dict) -> dict:
    """The task's log, asked for as a script would, until it has stopped."""
    start, quiet, lines = 0, 0, []
    for _ in range(100):
        answer = api.get(f"/tasks/{task['id']}/log", query_string={"start": start, "quiet": quiet})
        assert answer.status_code == 200, answer.data
        body = answer.get_json()
        lines += body["lines"]
        start, quiet = body["next_start"], body["quiet"]
        if body["task"]["status"] == "stopped":
            return {**body["task"], "lines": lines}
    raise AssertionError("the task never stopped")


def test_a_user_lists_only_their_guests_with_the_dashboards_filters(api, guests, assign):
    assign(201, "bob")
    bob, alice = api("bob", "read"), api("alice", "read")
    listed = bob.get("/guests").get_json()
    assert [g["vmid"] for g in listed["guests"]] == [201]
    assert listed["page"] == 1 and listed["pages"] == 1 and listed["matching"] == 1
    everyone = alice.get("/guests", query_string={"status": "running", "sort": "name"}).get_json()
    assert [g["name"] for g in everyone["guests"]] == ["db", "other"]
    odd = alice.get("/guests", query_string={"status": "sleeping"}).get_json()
    assert odd["problems"] == [
        "Ignored unknown status 'sleeping': choose one of running, stopped, paused, unknown."
    ]
    assert bob.get("/guests/201").get_json()["type"] == "lxc"
    hidden = bob.get("/guests/101")
    assert hidden.status_code == 404 and hidden.mimetype == "application/problem+json"


def test_a_power_action_answers_its_task_followed_to_the_end(api, guests, assign):
    assign(101, "bob")
    bob = api("bob")
    started = bob.post("/guests/101/power/start", json={"request_key": "ab" * 16})
    assert started.status_code == 202, started.data
    task = started.get_json()
    assert (task["action"], task["vmid"], task["status"]) == ("start", 101, "running")
    again = bob.post("/guests/101/power/start", json={"request_key": "ab" * 16})
    assert again.get_json()["id"] == task["id"]  # the same key starts it once
    ended = follow(bob, task)
    assert ended["succeeded"] and ended["exit_status"] == "OK" and ended["lines"]
    assert guests.vm(101).status == "running"
    assert bob.get(f"/tasks/{task['id']}").get_json()["status"] == "stopped"
    assert bob.post("/guests/101/power/explode").status_code == 404
    assert bob.post("/guests/301/power/stop").status_code == 404  # not bob's
    alice_task = api("alice").post("/guests/301/power/stop").get_json()
    assert bob.get(f"/tasks/{alice_task['id']}").status_code == 404


def test_a_snapshot_is_checked_like_the_form_and_taken(api, guests, assign):
    assign(201, "bob")
    bob = api("bob")
    bad = bob.post("/guests/201/snapshots", json={"name": "1 bad name"})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert bad.get_json()["errors"]["name"]
    untyped = bob.post("/guests/201/snapshots", json={"name": ["a"]})
    assert untyped.status_code == 422 and untyped.mimetype == "application/problem+json"
    taken = bob.post("/guests/201/snapshots", json={"name": "before", "description": "x"})
    assert taken.status_code == 202
    assert follow(bob, taken.get_json())["succeeded"]
    assert "before" in guests.ct(201).snapshots

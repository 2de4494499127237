"""Tasks: live progress (one Proxmox call per poll), failures, double submits, task lists."""

import re
import time

import pytest

from tests.conftest import log_in
from tests.guests.conftest import last_task, press, pve_calls, url


def poll_url(page: str) -> str | None:
    match = re.search(r'hx-get="([^"]+)"', page)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.mark.fakepve(time_scale=1.0)
def test_slow_shutdown_is_followed_live_one_call_per_poll(app, guests, admin_client):
    guests.guest(201).shutdown_secs = 1  # ends before 10 quiet polls ask for its status
    response = press(admin_client, url("lxc", 201, suffix="/power/shutdown"))
    page = admin_client.get(response.location).data.decode()
    assert "Running…" in page
    next_poll, polls = poll_url(page), 0
    while next_poll and polls < 40:
        guests.requests.clear()
        fragment = admin_client.get(next_poll).data.decode()
        assert len(pve_calls(guests)) == 1  # the log, or after a quiet spell the status
        assert pve_calls(guests)[0][1].endswith(("/log", "/status"))
        next_poll, polls = poll_url(fragment), polls + 1
        time.sleep(0.2)
    assert next_poll is None, "the task never finished"
    assert polls > 1, "the shutdown should still have been running at the first poll"
    assert "Finished: OK" in fragment and 'hx-swap-oob="beforeend:#task-log"' in fragment
    assert "TASK OK" in fragment
    assert guests.guest(201).status == "stopped" and last_task(app).exit_status == "OK"


def test_failed_task_shows_pve_error_and_reports_once(sentry, guests):
    app, transport = sentry()
    client = log_in(app)
    guests.fail("POST", "/nodes/pve1/qemu/101/status/start", error="start_failed")
    response = press(client, url("qemu", 101, suffix="/power/start"))
    page = client.get(response.location).data.decode()
    assert "TASK ERROR: start failed: unexpected error" in page
    client.get(response.location)  # a second look must not report it again
    task = last_task(app)
    assert task.failed and task.exit_status == "start failed: unexpected error"
    events = [e for e in transport.events() if e["tags"].get("error_type") == "proxmox"]
    assert len(events) == 1
    context = events[0]["contexts"]["proxmox_error"]
    assert (context["node"], context["vmid"], context["upid"]) == ("pve1", 101, task.upid)
    assert context["pve_message"] == "start failed: unexpected error"


def test_double_submit_starts_one_task(app, guests, admin_client):
    first = press(admin_client, url("qemu", 101, suffix="/power/start"), key="abc123")
    second = press(admin_client, url("qemu", 101, suffix="/power/start"), key="abc123")
    assert first.location == second.location
    assert pve_calls(guests, "POST").count(("POST", "/nodes/pve1/qemu/101/status/start")) == 1


def test_task_lists(app, guests, admin_client):
    press(admin_client, url("qemu", 101, suffix="/power/start"))
    task = last_task(app)
    listing = admin_client.get("/tasks").data.decode()
    assert f"/tasks/{task.id}" in listing and "qemu/101" in listing
    guest_page = admin_client.get(url("qemu", 101)).data.decode()
    assert f"/tasks/{task.id}" in guest_page  # PVE's task list links to the portal's task page
    press(admin_client, url("lxc", 201, suffix="/power/reboot"))
    per_guest = admin_client.get("/tasks?vmid=201").data.decode()
    assert "lxc/201" in per_guest and "qemu/101" not in per_guest


def test_unknown_task_is_404(guests, admin_client):
    assert admin_client.get("/tasks/999").status_code == 404
    assert admin_client.get("/tasks/999/progress").status_code == 404


def test_poll_while_proxmox_is_away_says_so_and_keeps_polling(app, guests, admin_client):
    press(admin_client, url("qemu", 101, suffix="/power/start"))
    task = last_task(app)
    guests.fail("GET", "/log", 500, "proxy gone")
    fragment = admin_client.get(f"/tasks/{task.id}/progress?start=0")
    assert fragment.status_code == 200
    text = fragment.data.decode()
    assert "Trying again" in text and 'hx-trigger="every 5s"' in text and "start=0" in text


def test_a_finished_task_whose_log_proxmox_lost_still_shows(app, guests, admin_client):
    press(admin_client, url("qemu", 101, suffix="/power/start"))
    task = last_task(app)
    admin_client.get(f"/tasks/{task.id}")  # watched to its end
    assert last_task(app).status == "stopped"
    guests.fail("GET", "/log", 500, "unable to open file - No such file or directory")
    page = admin_client.get(f"/tasks/{task.id}")
    assert page.status_code == 200
    assert "no longer has this task's log (unable to open file" in page.data.decode()
    assert "Finished: OK" in page.data.decode()


def test_refusal_is_reported_once_with_a_reference(sentry, guests):
    app, transport = sentry()
    client = log_in(app)
    guests.fail("POST", "/nodes/pve1/qemu/101/status/start", error="config_lock_timeout")
    page = client.get(press(client, url("qemu", 101, suffix="/power/start")).location)
    events = transport.events()
    assert len(events) == 1 and events[0]["tags"]["error_type"] == "proxmox"
    assert events[0]["contexts"]["proxmox_error"]["vmid"] == 101
    assert f"error reference {events[0]['event_id']}" in page.data.decode()


def test_a_task_without_its_final_line_is_ended_by_its_status(app, guests, admin_client):
    # As when the worker dies: PVE knows the task stopped, but its log lacks "TASK ...".
    press(admin_client, url("qemu", 101, suffix="/power/start"))
    task = last_task(app)
    guests.tasks[task.upid]["log"] = []
    guests.tasks[task.upid]["exitstatus"] = "unexpected status"
    quiet = admin_client.get(f"/tasks/{task.id}/progress?start=0&quiet=3").data.decode()
    assert "quiet=4" in poll_url(quiet)
    guests.requests.clear()
    ended = admin_client.get(f"/tasks/{task.id}/progress?start=0&quiet=10").data.decode()
    assert [p for _, p in pve_calls(guests)] == [f"/nodes/pve1/tasks/{task.upid}/status"]
    assert "TASK ERROR: unexpected status" in ended and poll_url(ended) is None
    assert last_task(app).exit_status == "unexpected status"


def test_the_guest_page_ends_tasks_nobody_watched(sentry, guests):
    app, transport = sentry()
    client = log_in(app)
    press(client, url("lxc", 201, suffix="/power/reboot"))
    guests.fail("POST", "/nodes/pve1/qemu/101/status/start", error="start_failed")
    press(client, url("qemu", 101, suffix="/power/start"))
    client.get(url("qemu", 101))
    client.get(url("lxc", 201))
    client.get(url("qemu", 101))  # seen twice: still one report
    listing = client.get("/tasks").data.decode()
    assert '"badge badge-paused">running' not in listing and ">OK</span>" in listing
    assert "start failed: unexpected error" in listing
    assert len([e for e in transport.events() if e["tags"]["error_type"] == "proxmox"]) == 1


def test_a_call_done_at_once_without_a_task_is_recorded_as_ended(app, guests):
    """PVE 7 resizes a disk without a task (its answer is null): nothing to follow."""
    from app.proxmox.cluster import Guest
    from app.services import tasks
    from app.services import users as user_service

    with app.app_context():
        user = user_service.create_user("carol", "carol-password-1", "admin", None)
        guest = Guest(101, "web", "qemu", "pve1", "stopped")
        task = tasks.start(user, guest, "resize", lambda client: None, "f0" * 16, "scsi0 → 40G")
        assert (task.status, task.exit_status, task.upid) == ("stopped", "OK", None)
        assert task.succeeded and tasks.follow(task).lines == []

"""Notifications through Apprise, received by real servers on loopback: a JSON webhook receiver
and an SMTP server (aiosmtpd). Targets are kept encrypted and shown masked; the worker sends
after each job; a failing target never fails a deploy and is marked as failing."""

from __future__ import annotations

import json
import time

from sqlalchemy import text

from app.extensions import db
from app.services import notifications
from tests.conftest import assert_no_secrets, free_port, log_in
from tests.deploys.conftest import CODE_SERVER_FORM, WORDPRESS_FORM, apps_in
from tests.deploys.test_updates import OLD, PS


def titles(received: list[dict]) -> list[str]:
    return [message["title"] for message in received]


def test_a_target_is_kept_sealed_shown_masked_and_gets_the_apps_events(app, pve, receiver):
    url, received = receiver
    client = log_in(app, "bob", "user")
    added = client.post("/account/notifications", data={"target_url": url})
    assert added.status_code == 302
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "json://127.0.0.1:" in page and "s3cret-token-42" not in page
    with app.app_context():
        stored = json.dumps([list(db.session.execute(text("SELECT * FROM notification_targets")))],
                            default=str)  # fmt: skip
    assert "s3cret-token-42" not in stored
    client.post("/account/notifications/1/test", data={"request_key": "a" * 32})
    assert titles(received) == ["A test from the Proxmox portal"]
    client.post("/apps/postgresql/deploy", data=OLD)  # 18.5, in a VM
    assert titles(received)[-1] == "db is running"
    assert "Running at http://127.77.0." not in received[-1]["message"]  # postgres: no URL
    client.post("/my-apps/1/update", data={"request_key": "b" * 32})
    assert titles(received)[-1] == "db was updated"
    assert "Updated from 18.5 to 18.6." in received[-1]["message"]


def test_a_rolled_back_update_is_told_to_its_owner_and_to_admins_who_asked(app, pve, receiver):
    url, received = receiver
    admin = log_in(app, "alice", "admin")
    admin.post("/account/notifications", data={"target_url": url})
    admin.post("/account/notifications/all-failures",
               data={"all_failures": "y", "request_key": "a" * 32})  # fmt: skip
    client = log_in(app, "bob", "user")
    client.post("/apps/postgresql/deploy", data=OLD)
    [row] = apps_in(app)
    vm = pve.vm(row.vmid)
    unhealthy = {"Service": "postgres", "State": "running", "Health": "unhealthy"}
    vm.agent.setdefault("exec", {})[PS] = {"exitcode": 0, "out-data": json.dumps(unhealthy)}
    client.post("/my-apps/1/update", data={"request_key": "b" * 32})
    assert titles(received) == ["db: the update was rolled back"]  # alice hears of bob's
    assert "Rolled back to 18.5" in received[0]["message"]


def test_e_mail_reaches_a_real_smtp_server(app, pve, mailbox):
    port, messages = mailbox
    client = log_in(app, "bob", "user")
    url = f"mailto://127.0.0.1:{port}?from=portal@example.org&to=bob@example.org&secure=no"
    assert client.post("/account/notifications", data={"target_url": url}).status_code == 302
    client.post("/apps/wordpress/deploy", data={**WORDPRESS_FORM, "request_key": "a" * 32})
    assert len(messages) == 1 and "blog is running" in messages[0]
    assert "bob@example.org" in messages[0]


def test_a_failing_target_never_fails_a_deploy_and_is_marked(sentry, pve):
    app, transport = sentry()
    client = log_in(app, "bob", "user")
    dead = f"json://127.0.0.1:{free_port()}/hook/t0ken-nobody-hears"
    client.post("/account/notifications", data={"target_url": dead})
    for number in range(3):
        data = {**CODE_SERVER_FORM, "name": f"editor{number}", "request_key": f"{number}" * 32}
        client.post("/apps/code-server/deploy", data=data)
    assert [row.status for row in apps_in(app)] == ["running"] * 3
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "failing" in page and "did not take the message" in page
    assert transport.events() == []  # a target that fails is no portal error
    assert_no_secrets(transport.payloads(), ["t0ken-nobody-hears"])
    with app.app_context():
        assert notifications.send_pending() == 0  # still failing, tried again


def test_a_url_apprise_does_not_know_is_refused(app, pve):
    client = log_in(app, "bob", "user")
    page = client.post("/account/notifications", data={"target_url": "nonsense://x"})
    assert page.status_code == 400 and "Apprise does not know this URL" in page.get_data(True)


def test_only_its_owner_tests_or_removes_a_target(app, pve, receiver):
    url, _ = receiver
    log_in(app, "bob", "user").post("/account/notifications", data={"target_url": url})
    carol = log_in(app, "carol", "user")
    key = {"request_key": "b" * 32}
    assert carol.post("/account/notifications/1/test", data=key).status_code == 404
    assert carol.post("/account/notifications/1/delete", data=key).status_code == 404


def test_a_deploy_that_takes_a_quota_to_90_percent_says_so(app, pve, receiver):
    from tests.deploys.test_quotas import set_quota

    url, received = receiver
    client = log_in(app, "bob", "user")
    client.post("/account/notifications", data={"target_url": url})
    set_quota(app, "bob", guests=10, memory=2200)
    client.post("/apps/code-server/deploy", data={**CODE_SERVER_FORM, "request_key": "a" * 32})
    assert "Your quota is almost used" in titles(received)
    said = next(m["message"] for m in received if m["title"] == "Your quota is almost used")
    assert "2048 of 2200 MiB of memory" in said


def test_a_scheduled_backup_that_failed_is_told_once(app, pve, receiver):
    from app.proxmox import get_client
    from app.services.apps import schedules

    url, received = receiver
    client = log_in(app, "bob", "user")
    client.post("/account/notifications", data={"target_url": url})
    client.post("/apps/code-server/deploy", data={**CODE_SERVER_FORM, "request_key": "a" * 32})
    [row] = apps_in(app)
    form = {"schedule": "daily", "keep": "3", "storage": "local", "request_key": "b" * 32}
    client.post("/my-apps/1/backups", data=form)
    with app.app_context():
        assert schedules.check_failed_backups(get_client()) == 0  # nothing failed yet
        failed_backup(pve, row.node, row.vmid)  # Proxmox ran the job; it failed
        assert schedules.check_failed_backups(get_client()) == 1
        assert schedules.check_failed_backups(get_client()) == 0  # told once
        notifications.send_pending()
    assert titles(received)[-1] == "editor: a scheduled backup failed"
    assert "job errors" in received[-1]["message"]


def failed_backup(pve, node: str, vmid: int) -> None:
    """A vzdump task that ended in error a moment ago, as the fake keeps its tasks (fakepve
    has no scheduler to run a backup job by itself)."""
    now = int(time.time())
    upid = f"UPID:{node}:0000ABCD:00000001:{now - 30:08X}:vzdump:{vmid}:root@pam:"
    record = {
        "upid": upid, "node": node, "pid": 43981, "pstart": 1, "starttime": now - 30,
        "type": "vzdump", "id": str(vmid), "user": "root@pam", "status": "stopped",
        "exitstatus": "job errors", "endtime": now, "log": ["TASK ERROR: job errors"],
    }  # fmt: skip
    pve.tasks[upid] = record
    pve.tasklog.append(record)

"""An app's scheduled backups are a Proxmox backup job (/cluster/backup) for its guest: made,
changed and removed from the app's page, and removed with the app."""

from __future__ import annotations

from tests.conftest import log_in
from tests.deploys.conftest import POSTGRES_FORM, apps_in


def test_a_schedule_becomes_a_proxmox_backup_job_and_goes_with_the_app(app, pve):
    client = log_in(app, "bob", "user")
    assert (
        client.post(
            "/apps/postgresql/deploy", data={**POSTGRES_FORM, "request_key": "a" * 32}
        ).status_code
        == 302
    )
    [row] = apps_in(app)
    page = client.get("/my-apps/1").get_data(as_text=True)
    assert "Scheduled backups" in page and "None: Proxmox makes backups" in page
    form = {"schedule": "daily", "keep": "5", "storage": "local", "request_key": "b" * 32}
    assert client.post("/my-apps/1/backups", data=form).status_code == 302
    job = pve.backup_jobs["portal-app-1"]
    assert (job["vmid"], job["schedule"], job["storage"]) == (str(row.vmid), "02:30", "local")
    assert job["prune-backups"] == "keep-last=5" and job["mode"] == "snapshot"
    assert "Every day at 02:30, keeping 5, on local" in client.get("/my-apps/1").get_data(True)
    weekly = {**form, "schedule": "weekly", "keep": "8", "request_key": "c" * 32}
    client.post("/my-apps/1/backups", data=weekly)
    job = pve.backup_jobs["portal-app-1"]
    assert job["schedule"] == "sun 03:00" and job["prune-backups"] == "keep-last=8"
    too_many = {**form, "keep": "99", "request_key": "d" * 32}
    flashed = client.get(client.post("/my-apps/1/backups", data=too_many).location)
    assert "The schedule was not saved" in flashed.get_data(as_text=True)
    assert log_in(app, "carol", "user").post("/my-apps/1/backups", data=form).status_code == 404
    client.post("/my-apps/1/delete", data={"request_key": "e" * 32})
    assert apps_in(app)[0].status == "deleted" and pve.backup_jobs == {}


def test_no_schedule_removes_the_job(app, pve):
    client = log_in(app, "bob", "user")
    client.post("/apps/postgresql/deploy", data={**POSTGRES_FORM, "request_key": "a" * 32})
    form = {"schedule": "six-hourly", "keep": "3", "storage": "local", "request_key": "b" * 32}
    client.post("/my-apps/1/backups", data=form)
    assert pve.backup_jobs["portal-app-1"]["schedule"] == "0/6:00"
    client.post("/my-apps/1/backups", data={**form, "schedule": "", "request_key": "c" * 32})
    assert pve.backup_jobs == {} and apps_in(app)[0].backup_schedule is None

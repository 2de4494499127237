"""Backups: back up now as a tracked task, and the guest's backups listed from storage."""

import pytest

from scripts.fakepve_demo import add_backup_file
from tests.guests.conftest import last_task, press, url


@pytest.mark.parametrize(("kind", "vmid", "other", "mode", "compress"), [
    ("lxc", 201, 101, "snapshot", "zstd"), ("qemu", 101, 201, "stop", "lzo"),
])  # fmt: skip
def test_backup_now_and_list(app, guests, admin_client, kind, vmid, other, mode, compress):
    add_backup_file(
        guests, "local", vmid, f"vzdump-{kind}-{vmid}-2026_11_28-03_00_00.tar.zst", 123456789
    )
    add_backup_file(guests, "local", other, f"vzdump-lxc-{other}-2026_11_28-03_00_00.tar.zst", 5)
    page = admin_client.get(url(kind, vmid, suffix="/backups")).data.decode()
    assert f"vzdump-{kind}-{vmid}-2026_11_28-03_00_00.tar.zst" in page and "117.7 MiB" in page
    assert f"-{other}-" not in page  # another guest's backup
    response = press(admin_client, url(kind, vmid, suffix="/backups"), storage="local",
                     mode=mode, compress=compress)  # fmt: skip
    assert "Finished: OK" in admin_client.get(response.location).data.decode()
    body = [b for m, p, b in guests.requests if m == "POST" and p.endswith("/nodes/pve1/vzdump")]
    assert f"vmid={vmid}".encode() in body[0] and b"storage=local" in body[0]
    assert f"mode={mode}".encode() in body[0] and f"compress={compress}".encode() in body[0]
    assert last_task(app).action == "backup"


def test_backup_form_rejects_unknown_storage(guests, admin_client):
    response = press(admin_client, url("lxc", 201, suffix="/backups"), storage="nowhere",
                     mode="snapshot", compress="zstd")  # fmt: skip
    assert response.status_code == 400 and "Not a valid choice" in response.data.decode()
    assert not [p for m, p, _ in guests.requests if p.endswith("/vzdump")]


CT_BACKUP = "vzdump-lxc-201-2026_11_28-03_00_00.tar.zst"
VOLID = f"local:backup/{CT_BACKUP}"
ACTION = url("lxc", 201, suffix="/backups/action")


@pytest.fixture
def ct_backup(guests):
    add_backup_file(guests, "local", 201, CT_BACKUP, 123456789)
    return guests


def act(client, operation: str, volid: str = VOLID, **data):
    return press(client, ACTION, volid=volid, operation=operation, **data)


def follow(client, response) -> str:
    assert "/tasks/" in response.location, response.location
    return client.get(response.location).get_data(as_text=True)


def test_protect_then_delete_is_refused_unprotect_then_delete(app, ct_backup, admin_client):
    act(admin_client, "protect")
    assert ct_backup.storages["local"]["volumes"][f"backup/{CT_BACKUP}"]["protected"] is True
    page = admin_client.get(url("lxc", 201, suffix="/backups")).get_data(as_text=True)
    assert "protected</span>" in page and "Delete this backup" not in page
    refused = act(admin_client, "delete")
    assert "protected" in admin_client.get(refused.location).get_data(as_text=True)
    act(admin_client, "unprotect")
    assert "Finished: OK" in follow(admin_client, act(admin_client, "delete"))
    assert f"backup/{CT_BACKUP}" not in ct_backup.storages["local"]["volumes"]
    assert last_task(app).action == "delbackup"


def test_restore_over_needs_a_stopped_guest_and_its_name(app, ct_backup, admin_client):
    refused = act(admin_client, "restore", confirm_name="db")
    assert "Stop db first" in admin_client.get(refused.location).get_data(as_text=True)
    ct_backup.guest(201).status = "stopped"
    wrong = act(admin_client, "restore", confirm_name="nope")
    assert "Type db exactly" in admin_client.get(wrong.location).get_data(as_text=True)
    page = follow(admin_client, act(admin_client, "restore", confirm_name="db"))
    assert "Finished: OK" in page
    assert last_task(app).action == "restore" and last_task(app).vmid == 201
    body = [b for m, p, b in ct_backup.requests if m == "POST" and p.endswith("/nodes/pve1/lxc")]
    assert b"restore=1" in body[-1] and b"force=1" in body[-1] and b"vmid=201" in body[-1]


def test_restore_as_new_makes_a_guest_that_belongs_to_the_user(app, ct_backup, assign):
    from tests.conftest import log_in

    client = log_in(app, "bob", "user")
    assign(201, "bob")
    page = follow(client, act(client, "restore-new"))
    assert "Finished: OK" in page
    task = last_task(app)
    assert task.action == "restore-new" and task.vmid not in (101, 201, 301)
    assert ct_backup.ct(task.vmid) is not None
    assert client.get(url("lxc", task.vmid)).status_code == 200  # bob's


def test_only_this_guests_backups_can_be_acted_on(ct_backup, admin_client):
    add_backup_file(ct_backup, "local", 101, "vzdump-qemu-101-2026_11_28-03_00_00.vma.zst", 5)
    other = "local:backup/vzdump-qemu-101-2026_11_28-03_00_00.vma.zst"
    assert act(admin_client, "delete", volid=other).status_code == 404
    assert act(admin_client, "explode").status_code == 302  # not an operation: form error


def test_a_restore_as_new_never_takes_a_vmid_another_restore_holds(app, ct_backup, assign):
    """Proxmox offers the same next free VMID until a guest has it: a restore still running
    holds its VMID in the portal, so the next restore takes another."""
    from tests.conftest import log_in
    from tests.deploys.test_quotas import running_restore

    client = log_in(app, "bob", "user")
    assign(201, "bob")
    taken = {g.vmid for g in [*ct_backup.vms, *ct_backup.cts]}
    free = min(v for v in range(100, 1000) if v not in taken)
    running_restore(app, "bob", free, cores=1, memory=512, disk=8)
    assert "Finished: OK" in follow(client, act(client, "restore-new"))
    task = last_task(app)
    assert task.vmid != free and ct_backup.ct(task.vmid) is not None
    assert set(task.claim) == {"cores", "memory", "disk"}  # what it counted while it ran

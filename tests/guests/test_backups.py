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

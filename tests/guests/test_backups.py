"""Backups: back up now as a tracked task, and the guest's backups listed from storage."""

from tests.guests.conftest import last_task, press, url


def add_backup(pve, vmid: int, name: str, size: int) -> None:
    """A backup file on storage `local`, owned by vmid (as vzdump leaves it)."""
    pve.store_file("local", name, size, content="backup")
    pve.storages["local"]["volumes"][f"backup/{name}"]["vmid"] = vmid


def test_backup_now_and_list(app, guests, admin_client):
    add_backup(guests, 201, "vzdump-lxc-201-2026_11_28-03_00_00.tar.zst", 123456789)
    add_backup(guests, 101, "vzdump-qemu-101-2026_11_28-03_00_00.vma.zst", 5)
    page = admin_client.get(url("lxc", 201, suffix="/backups")).data.decode()
    assert "vzdump-lxc-201-2026_11_28-03_00_00.tar.zst" in page and "117.7 MiB" in page
    assert "vzdump-qemu-101" not in page  # another guest's backup
    response = press(admin_client, url("lxc", 201, suffix="/backups"), storage="local",
                     mode="snapshot", compress="zstd")  # fmt: skip
    assert "Finished: OK" in admin_client.get(response.location).data.decode()
    body = [b for m, p, b in guests.requests if m == "POST" and p.endswith("/nodes/pve1/vzdump")]
    assert b"vmid=201" in body[0] and b"storage=local" in body[0] and b"compress=zstd" in body[0]
    assert last_task(app).action == "backup"


def test_backup_form_rejects_unknown_storage(guests, admin_client):
    response = press(admin_client, url("lxc", 201, suffix="/backups"), storage="nowhere",
                     mode="snapshot", compress="zstd")  # fmt: skip
    assert response.status_code == 400 and "Not a valid choice" in response.data.decode()
    assert not [p for m, p, _ in guests.requests if p.endswith("/vzdump")]

"""Restoring a VM's backup, over it and as a new VM, against the demo's fake (plain fakepve
cannot restore QEMU archives; the demo's vzdump keeps what a restore brings back)."""

from __future__ import annotations

import re

from tests.conftest import log_in
from tests.deploys.conftest import pve  # noqa: F401 - the demo's fake, for this module
from tests.guests.conftest import last_task, press, url

BACKUPS = url("qemu", 100, suffix="/backups")


def test_a_vm_backup_restores_over_it_and_as_a_new_vm(app, pve):  # noqa: F811
    admin = log_in(app, "alice", "admin")
    pve.vm(100).status = "stopped"
    started = press(admin, BACKUPS, storage="local", mode="stop", compress="zstd")
    assert "Finished: OK" in admin.get(started.location).get_data(as_text=True)
    page = admin.get(BACKUPS).get_data(as_text=True)
    volid = re.search(r'name="volid" value="([^"]+)"', page).group(1)
    pve.vm(100).config["memory"] = "4096"  # changed after the backup
    over = press(admin, BACKUPS + "/action", volid=volid, operation="restore", confirm_name="web")
    assert "Finished: OK" in admin.get(over.location).get_data(as_text=True)
    assert pve.vm(100).config["memory"] == "512"  # as it was in the backup
    new = press(admin, BACKUPS + "/action", volid=volid, operation="restore-new")
    assert "Finished: OK" in admin.get(new.location).get_data(as_text=True)
    restored = pve.vm(last_task(app).vmid)
    assert restored.name == "web" and restored.config["memory"] == "512"
    assert "vm-100-disk" not in restored.config["scsi0"]  # its own disk

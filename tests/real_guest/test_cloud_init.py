"""The seed ISO the portal builds (app.cloudinit) boots a real Debian 13 VM: real cloud-init
reads it (hostname, files, commands) and the real guest agent runs commands, as PVE's
agent/exec will. Run with `make real-guest-test` (not part of `make test`: a TCG boot takes
about a minute, the first image build a few more)."""

from __future__ import annotations

import time

import pytest

from app.cloudinit import meta_data, seed_iso
from tests.conftest import free_port
from tests.real_guest.guest import Guest, phase

USER_DATA = """#cloud-config
write_files:
  - path: /etc/portal-seed
    content: read from the portal's seed ISO
runcmd:
  - [touch, /run/portal-runcmd-ran]
"""

# As on PVE's own cloud-init drive: the first NIC by name, DHCP (QEMU's user network answers).
NETWORK = """version: 1
config:
  - type: physical
    name: eth0
    subnets:
      - type: dhcp
"""


@pytest.fixture
def guest(tmp_path):
    started = time.monotonic()
    vm = Guest(
        tmp_path, seed_iso(USER_DATA, meta_data("seed-test-1", "seeded"), NETWORK), free_port()
    )
    phase("QEMU started", started)
    yield vm
    vm.stop()


def test_a_real_vm_reads_the_portals_seed_iso(guest):
    started = time.monotonic()
    guest.wait_for_agent()
    phase("guest agent answers", started)
    code, out, err = guest.run(["cloud-init", "status", "--wait"])
    phase("cloud-init done", started)
    assert code == 0, out + err
    assert guest.run(["hostname"])[1].strip() == "seeded"
    assert guest.run(["cat", "/etc/portal-seed"])[1].strip() == "read from the portal's seed ISO"
    assert guest.run(["test", "-e", "/run/portal-runcmd-ran"])[0] == 0

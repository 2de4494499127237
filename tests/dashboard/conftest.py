"""A small cluster in fakepve: 2 nodes, VMs and containers, running and stopped, and templates."""

import pytest

GUESTS = [
    # (type, vmid, name, node, status, tags, template)
    ("qemu", 100, "web-1", "pve1", "running", "prod;web", False),
    ("qemu", 101, "db-1", "pve2", "stopped", "prod", False),
    ("qemu", 102, "build", "pve1", "stopped", "", False),
    ("lxc", 200, "dns", "pve2", "running", "net", False),
    ("lxc", 201, "web-cache", "pve1", "stopped", "web", False),
    ("qemu", 9000, "tpl-debian", "pve1", "stopped", "", True),
    ("lxc", 9001, "tpl-alpine", "pve2", "stopped", "", True),
]


@pytest.fixture
def cluster(pve):
    """Load GUESTS into fakepve; returns the fake."""
    pve.add_node("pve2")
    for kind, vmid, name, node, status, tags, template in GUESTS:
        config = {"tags": tags} if tags else {}
        add = pve.add_vm if kind == "qemu" else pve.add_ct
        add(vmid, name, node=node, status=status, config=config, template=template)
    return pve

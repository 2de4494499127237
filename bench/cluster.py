"""Generated clusters for the benchmark: `size` guests spread over `nodes` nodes.

Two thirds VMs, a third containers, most running, with names, tags and usage figures like a
real cluster's, plus the Debian container template the catalog's container apps need.
"""

from __future__ import annotations

NODES = 16
VOLUMES = [
    {"storage": "local", "content": "vztmpl", "size": 126000000,
     "name": "debian-12-standard_12.7-1_amd64.tar.zst"},
    {"storage": "local", "content": "vztmpl", "size": 3200000,
     "name": "alpine-3.20-default_20240908_amd64.tar.xz"},
]  # fmt: skip
ROLES = ("web", "db", "cache", "build", "mail", "dns", "git", "monitor")


def node_name(index: int) -> str:
    return f"pve{index + 1:02d}"


def generate(size: int, nodes: int = NODES) -> dict:
    """A cluster file (scripts/fakepve_demo.py's format) with `size` guests."""
    guests = []
    for i in range(size):
        vmid = 1000 + i
        role = ROLES[i % len(ROLES)]
        container = i % 3 == 2
        mac = f"BC:24:11:{(i >> 16) & 255:02X}:{(i >> 8) & 255:02X}:{i & 255:02X}"
        memory = (512, 1024, 2048, 4096)[i % 4]
        config: dict = {"cores": 1 + i % 4, "memory": str(memory), "tags": f"{role};bench"}
        if container:
            config |= {"rootfs": f"local-lvm:vm-{vmid}-disk-0,size=8G", "ostype": "debian",
                       "net0": f"name=eth0,bridge=vmbr0,hwaddr={mac},ip=dhcp"}  # fmt: skip
        else:
            config |= {"scsi0": f"local-lvm:vm-{vmid}-disk-0,size=32G", "ostype": "l26",
                       "net0": f"virtio={mac},bridge=vmbr0"}  # fmt: skip
        guests.append({
            "vmid": vmid, "name": f"{role}-{i:05d}", "type": "lxc" if container else "qemu",
            "node": node_name(i % nodes), "status": "stopped" if i % 5 == 4 else "running",
            "config": config,
            "stats": {"cpu": (i * 37 % 100) / 250, "mem": memory * 2**20 * (i % 7 + 2) // 10},
        })  # fmt: skip
    return {"nodes": [node_name(n) for n in range(nodes)], "guests": guests, "volumes": VOLUMES}

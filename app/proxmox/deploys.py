"""The API calls a deploy makes (each function is one HTTP request).

PVE quirks handled here: QEMU names a guest `name`, LXC `hostname`; QEMU's `sshkeys` must be
URL-encoded; `/cluster/nextid` answers a number or a string.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from app.proxmox.client import ProxmoxClient


def next_free_vmid(client: ProxmoxClient, at_least: int | None = None) -> int:
    """GET /cluster/nextid: the lowest free VMID (a 400 when `at_least` is taken)."""
    params = {"vmid": at_least} if at_least is not None else {}
    return int(client.get("cluster/nextid", **params))


def clone_template(
    client: ProxmoxClient, node: str, template_vmid: int, vmid: int, name: str, storage: str
) -> str:
    """POST a full clone of a QEMU template on its own node; returns the UPID."""
    path = f"nodes/{node}/qemu/{int(template_vmid)}/clone"
    return client.request("POST", path, newid=vmid, name=name, full=1, storage=storage)


def create_container(client: ProxmoxClient, node: str, vmid: int, settings: dict) -> str:
    """POST /nodes/{node}/lxc: a new container from an ostemplate; returns the UPID."""
    return client.request("POST", f"nodes/{node}/lxc", vmid=vmid, **settings)


def clone_container(
    client: ProxmoxClient, node: str, vmid: int, newid: int, hostname: str, storage: str
) -> str:
    """POST a full clone of a (stopped) container on its node; returns the UPID."""
    path = f"nodes/{node}/lxc/{int(vmid)}/clone"
    return client.request("POST", path, newid=newid, hostname=hostname, full=1, storage=storage)


def give_volume(client: ProxmoxClient, node: str, vmid: int, volume: str, target_vmid: int) -> str:
    """POST move_volume with target-vmid: container vmid's mount point `volume` becomes the
    same mount point of target_vmid (both stopped, on one node; PVE refuses a volume that a
    snapshot holds). Returns the UPID."""
    path = f"nodes/{node}/lxc/{int(vmid)}/move_volume"
    return client.request(
        "POST", path, volume=volume, **{"target-vmid": target_vmid, "target-volume": volume}
    )


def set_config(client: ProxmoxClient, node: str, guest_type: str, vmid: int, **values: Any):
    """PUT config (synchronous for both guest types)."""
    if "sshkeys" in values:
        values["sshkeys"] = quote(values["sshkeys"], safe="")
    return client.request("PUT", f"nodes/{node}/{guest_type}/{int(vmid)}/config", **values)


def resize_disk(
    client: ProxmoxClient, node: str, guest_type: str, vmid: int, disk: str, size_gib: int
) -> str | None:
    """PUT resize: grow `disk` to size_gib; returns the UPID (PVE 8+), or None."""
    path = f"nodes/{node}/{guest_type}/{int(vmid)}/resize"
    return client.request("PUT", path, disk=disk, size=f"{int(size_gib)}G")


def agent(client: ProxmoxClient, node: str, vmid: int, name: str, **params: Any) -> Any:
    """A QEMU guest agent command (`network-get-interfaces`, `exec`, `exec-status`...)."""
    path = f"nodes/{node}/qemu/{int(vmid)}/agent/{name}"
    if name in ("exec", "file-write"):
        return client.request("POST", path, **params)
    return client.get(path, **params)


def pull_oci_image(client: ProxmoxClient, node: str, storage: str, reference: str, filename: str):
    """POST oci-registry-pull (PVE >= 9.1): the image as a container template; the UPID."""
    path = f"nodes/{node}/storage/{storage}/oci-registry-pull"
    return client.request("POST", path, reference=reference, filename=filename)


def download_image(
    client: ProxmoxClient, node: str, storage: str, url: str, filename: str, sha512: str
) -> str:
    """POST download-url: Proxmox fetches a disk image into `import` content (PVE >= 8.4),
    checking its SHA-512; returns the UPID."""
    path = f"nodes/{node}/storage/{storage}/download-url"
    return client.request(
        "POST", path, url=url, filename=filename, content="import", checksum=sha512,
        **{"checksum-algorithm": "sha512"},
    )  # fmt: skip


def create_vm(client: ProxmoxClient, node: str, vmid: int, settings: dict) -> str:
    """POST /nodes/{node}/qemu: a new VM; returns the UPID."""
    return client.request("POST", f"nodes/{node}/qemu", vmid=vmid, **settings)


def upload_iso(client: ProxmoxClient, node: str, storage: str, image) -> str:
    """POST upload (multipart): an ISO image, a file object whose `name` is the file name to
    store; returns the UPID."""
    path = f"nodes/{node}/storage/{storage}/upload"
    return client.request("POST", path, content="iso", filename=image)


def make_template(client: ProxmoxClient, node: str, vmid: int) -> str | None:
    """POST template: the VM becomes a template (a UPID, or None on older PVE)."""
    return client.request("POST", f"nodes/{node}/qemu/{int(vmid)}/template")


def delete_volume(client: ProxmoxClient, node: str, storage: str, volid: str) -> str | None:
    """DELETE a volume (an ISO, an image) from a storage."""
    return client.request("DELETE", f"nodes/{node}/storage/{storage}/content/{volid}")


def save_backup_job(client: ProxmoxClient, job_id: str, exists: bool, **settings: Any) -> None:
    """Create (POST /cluster/backup) or change (PUT /cluster/backup/{id}) a backup job."""
    if exists:
        client.request("PUT", f"cluster/backup/{job_id}", **settings)
    else:
        client.request("POST", "cluster/backup", id=job_id, **settings)


def delete_backup_job(client: ProxmoxClient, job_id: str) -> None:
    """DELETE /cluster/backup/{id}."""
    client.request("DELETE", f"cluster/backup/{job_id}")

"""`move_volume` of a container with `target-vmid` (PVE 7.2+), which fakepve does not model:
the volume changes owner (renamed to the target's VMID) and config key, with PVE's checks
(pve-container src/PVE/API2/LXC.pm, "volume_reassignfn"). Moving to another storage is not
modelled: the portal never asks for it.
"""

from __future__ import annotations

from fakepve.lxc import parse_mount, print_mount
from fakepve.model import PveError


async def move_volume(pve, values: dict, user: str):
    """POST /nodes/{node}/lxc/{vmid}/move_volume, `target-vmid` form."""
    node, vmid, key = values["node"], int(values["vmid"]), values["volume"]
    if values.get("storage") or not values.get("target-vmid"):
        raise PveError(501, "demo: only move_volume with target-vmid is modelled")
    target_id = int(values["target-vmid"])
    target_key = values.get("target-volume") or key
    if "rootfs" in (key, target_key):
        raise PveError(500, "Cannot move to/from 'rootfs'")
    source = pve._find_ct(node, vmid)
    target = pve.ct(target_id)
    if target is None:
        raise PveError(500, f"could not find CT {target_id}")
    if target.node != source.node:
        raise PveError(500, f"Both containers need to be on the same node ({source.node} != "
                            f"{target.node})")  # fmt: skip
    pve.require(user, f"/vms/{vmid}", "VM.Config.Disk")
    pve.require(user, f"/vms/{target_id}", "VM.Config.Disk")
    for ct in (source, target):
        pve._ct_check_lock(ct)
    if key not in source.config:
        raise PveError(500, f"volume '{key}' for container '{vmid}' does not exist")
    if target_key in target.config:
        raise PveError(500, f"Target volume key '{target_key}' is already in use for container "
                            f"'{target_id}'")  # fmt: skip
    mount = parse_mount(source.config[key])
    if any(parse_mount(str(snap.get(key, ""))).get("volume") == mount["volume"]
           for snap in source.snapshots.values()):  # fmt: skip
        raise PveError(500, "Cannot move volume used by a snapshot to another container")
    if source.status == "running":
        raise PveError(500, "Cannot move in-use volume while the source CT is running - detach "
                            "or shutdown first")  # fmt: skip
    storage = mount["volume"].split(":")[0]
    pve.require(user, f"/storage/{storage}", "Datastore.AllocateSpace")

    async def body():
        await pve.pause(2)
        moved = dict(mount, volume=pve._allocate(target_id, storage, pve._taken_volumes()))
        del source.config[key]
        target.config[target_key] = print_mount(moved, False)
        target.demo_data_from = vmid  # demo_apps: an updated app's container
        return None

    log = [f"moving volume '{key}' from container '{vmid}' to '{target_id}'"]
    return await pve.task(node, "move_volume", vmid, user, body, vm=source, lock=False, log=log)

"""NoCloud seed ISOs: what cloud-init reads from a CD-ROM labelled `cidata` on first boot.

The portal builds one for the VM it turns into its base template (Proxmox cannot take custom
cloud-init snippets through its API, but it takes an ISO upload). The files carry Rock Ridge
and Joliet names (`user-data`, `meta-data`, `network-config`), as `genisoimage -volid cidata
-joliet -rock` writes them; cloud-init finds the disc by its volume label.
"""

from __future__ import annotations

import io

import yaml

VOLUME_LABEL = "cidata"
# ISO 9660 level-1 names (8.3, upper case) under the long names cloud-init reads.
ISO_NAMES = {"user-data": "USERDATA.;1", "meta-data": "METADATA.;1", "network-config": "NETWORK.;1"}


def meta_data(instance_id: str, hostname: str) -> str:
    """The meta-data file: a new instance id makes cloud-init run again on that disk."""
    return yaml.safe_dump({"instance-id": instance_id, "local-hostname": hostname})


def seed_iso(user_data: str, meta: str, network_config: str | None = None) -> bytes:
    """The ISO image, whole, ready to upload as `content=iso`. user_data starts with
    `#cloud-config`; without network_config cloud-init brings the first NIC up by DHCP."""
    files = {"user-data": user_data, "meta-data": meta}
    if network_config is not None:
        files["network-config"] = network_config
    import pycdlib  # only the worker builds seed ISOs: web workers never load it

    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident=VOLUME_LABEL)
    for name, text in files.items():
        data = text.encode()
        iso.add_fp(
            io.BytesIO(data), len(data), f"/{ISO_NAMES[name]}", rr_name=name,
            joliet_path=f"/{name}",
        )  # fmt: skip
    image = io.BytesIO()
    iso.write_fp(image)
    iso.close()
    return image.getvalue()

"""The NoCloud seed ISO, read back the way Linux mounts it (Rock Ridge and Joliet names) and
by the volume label cloud-init looks for."""

from __future__ import annotations

import io

import pycdlib
import yaml

from app.cloudinit import meta_data, seed_iso

USER_DATA = "#cloud-config\npackages: [qemu-guest-agent]\n"
NETWORK = "version: 1\nconfig:\n  - type: physical\n    name: eth0\n    subnets: [{type: dhcp}]\n"


def read_back(image: bytes) -> tuple[pycdlib.PyCdlib, dict[str, str]]:
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(image))
    files = {}
    for name in ("user-data", "meta-data", "network-config"):
        for path_kind in ("rr_path", "joliet_path"):
            found = io.BytesIO()
            try:
                iso.get_file_from_iso_fp(found, **{path_kind: f"/{name}"})
            except pycdlib.pycdlibexception.PyCdlibInvalidInput:
                continue
            files.setdefault(name, found.getvalue().decode())
            assert files[name] == found.getvalue().decode()  # both names, one content
    return iso, files


def test_the_seed_carries_its_files_under_the_names_cloud_init_reads():
    meta = meta_data("portal-base-1", "portal-base")
    iso, files = read_back(seed_iso(USER_DATA, meta, NETWORK))
    assert iso.pvd.volume_identifier.decode().strip() == "cidata"
    assert files == {"user-data": USER_DATA, "meta-data": meta, "network-config": NETWORK}
    assert yaml.safe_load(files["meta-data"]) == {
        "instance-id": "portal-base-1", "local-hostname": "portal-base"
    }  # fmt: skip
    iso.close()


def test_without_network_config_there_is_no_such_file():
    iso, files = read_back(seed_iso(USER_DATA, meta_data("i-1", "h")))
    assert set(files) == {"user-data", "meta-data"}
    iso.close()

"""A booting cluster for the deploy tests: the demo's fakepve (guests get addresses, VM agents
run) with a template VM, container templates and two nodes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fakepve.pytest_plugin import _Serving
from sqlalchemy import select

from app.extensions import db
from app.models import App
from scripts.fakepve_demo import DemoPve, load_cluster
from tests.conftest import TOKEN_NAME, TOKEN_USER, TOKEN_VALUE
from tests.guests.conftest import assign  # noqa: F401 - the fixture, for the deploy tests too

CLUSTER = {
    "nodes": ["pve1", "pve2"],
    "volumes": [
        {"storage": "local", "content": "vztmpl", "size": 126000000,
         "name": "debian-12-standard_12.7-1_amd64.tar.zst"},
        {"storage": "local", "content": "vztmpl", "size": 3200000,
         "name": "alpine-3.20-default_20240908_amd64.tar.xz"},
    ],
    "guests": [
        {"vmid": 9100, "name": "portal-debian-13", "node": "pve2", "template": True,
         "config": {"cores": 1, "memory": "1024", "scsi0": "local-lvm:base-9100-disk-0,size=3G",
                    "agent": "1", "ide2": "local-lvm:vm-9100-cloudinit,media=cdrom",
                    "tags": "portal-base", "net0": "virtio=BC:24:11:00:91:00,bridge=vmbr0"}},
        {"vmid": 9000, "name": "tpl-debian-12", "node": "pve1", "template": True,
         "config": {"cores": 2, "memory": "2048", "scsi0": "local-lvm:base-9000-disk-0,size=16G",
                    "agent": "1", "ide2": "local-lvm:vm-9000-cloudinit,media=cdrom",
                    "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0"}},
        {"vmid": 9001, "name": "tpl-ubuntu-24.04", "node": "pve2", "template": True,
         "config": {"cores": 2, "memory": "2048", "scsi0": "local-lvm:base-9001-disk-0,size=16G",
                    "agent": "1", "ide2": "local-lvm:vm-9001-cloudinit,media=cdrom",
                    "net0": "virtio=BC:24:11:00:01:01,bridge=vmbr0"}},
        {"vmid": 100, "name": "web", "node": "pve1", "status": "running",
         "config": {"cores": 1, "memory": "512", "scsi0": "local-lvm:vm-100-disk-0,size=8G"}},
    ],
}  # fmt: skip
WORDPRESS_FORM = {
    "name": "blog", "node": "auto", "storage": "local-lvm", "cores": "2", "memory": "2048",
    "disk": "20", "input_login_user": "admin",
    "input_ssh_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0"
                     "dh2l9GKJl me@laptop",
}  # fmt: skip
CODE_SERVER_FORM = {  # a Compose VM app with a secret the user types
    "name": "editor", "node": "auto", "storage": "local-lvm", "cores": "2", "memory": "2048",
    "disk": "20", "input_login_user": "dev", "input_code_server_password": "Cs-secret-pass-42",
}  # fmt: skip
POSTGRES_FORM = {  # an OCI container app
    "runtime": "oci", "name": "db", "node": "pve1", "storage": "local-lvm", "cores": "1",
    "memory": "1024", "disk": "8", "input_postgres_user": "app",
}  # fmt: skip


@contextmanager
def served(fake_class: type[DemoPve], cluster: dict, pki) -> Iterator[DemoPve]:
    """A fake of fake_class (DemoPve or a subclass) with cluster, served like the fakepve
    fixture: no time passes in its tasks, and the tests' token works."""
    fake = fake_class(user="root@pam", password="secret", host="127.0.0.1", port=0)
    fake.time_scale = 0
    fake.apitokens[f"{TOKEN_USER}!{TOKEN_NAME}"] = TOKEN_VALUE
    load_cluster(fake, cluster)
    serving = _Serving(fake, *pki)
    try:
        yield fake
    finally:
        serving.stop()


@pytest.fixture
def pve(_fakepve_pki):
    """The demo's fakepve (DemoPve) with CLUSTER."""
    with served(DemoPve, CLUSTER, _fakepve_pki) as fake:
        yield fake


def apps_in(app) -> list[App]:
    """Every App row, oldest first, detached from the session."""
    with app.app_context():
        rows = list(db.session.scalars(select(App).order_by(App.id)))
        for row in rows:
            _ = [s.task for s in row.steps], row.user  # load what the tests read
        db.session.expunge_all()
        return rows


def cluster_names(pve) -> set[str]:
    """The names of every guest in the fake cluster."""
    return {g.name for g in [*pve.vms, *pve.cts]}

"""The steps of an app run as a Proxmox OCI application container (PVE >= 9.1): pull its image
into a template storage (once per image), create the container from it with its data on a
mount point, give it its environment, and, once it runs, probe its port from the worker.

Proxmox applies the image's environment over the one given at create, so ours is set after
it with a config update, merged over the image's (PATH and the like stay).
"""

from __future__ import annotations

import socket
import time

import requests
from flask import current_app

from app.catalog import oci
from app.exceptions import AppServiceError
from app.models import AppStep, StepStatus
from app.proxmox import deploys as pve
from app.proxmox import guests as pve_guests
from app.proxmox.cluster import storage_volumes, storages
from app.services.apps.deploy import compose_vm
from app.services.apps.deploy.context import Deploy
from app.services.apps.deploy.steps import claim_and_create

REACH_GRACE = 60.0  # seconds of "no route" before the portal says it cannot reach the guest
NOT_REACHABLE = "running, not reachable from the portal"


def image(deploy: Deploy) -> oci.OciImage:
    return oci.image_of(deploy.compose)


def template_storage(deploy: Deploy) -> str:
    """The node's storage for container templates (`local` when it has one)."""
    app = deploy.app
    names = sorted(
        s.name for s in storages(deploy.client)
        if s.node == app.node and s.active and "vztmpl" in s.content
    )  # fmt: skip
    if not names:
        raise AppServiceError(f"{app.node} has no storage for container templates (vztmpl).")
    return "local" if "local" in names else names[0]


def pulled_volume(deploy: Deploy, storage: str) -> str | None:
    """The volume of the app's image on storage, if it was pulled before."""
    stem = image(deploy).file_stem
    for volume in storage_volumes(deploy.client, deploy.app.node, storage):
        volid = str(volume.get("volid", ""))
        if volid.startswith(f"{storage}:vztmpl/{stem}."):
            return volid
    return None


def pull(deploy: Deploy, step: AppStep) -> None:
    """`oci-registry-pull` the image, unless the storage holds it already."""
    app, wanted = deploy.app, image(deploy)
    storage = template_storage(deploy)
    found = pulled_volume(deploy, storage)
    if found:
        step.status, step.detail = StepStatus.SKIPPED, f"{found} is there already"
        return
    step.detail = f"{wanted.reference} to {storage}"
    deploy.run_task(
        step, "pull",
        lambda client: pve.pull_oci_image(client, app.node, storage, wanted.reference,
                                          wanted.file_stem),
    )  # fmt: skip
    if pulled_volume(deploy, storage) is None:
        raise AppServiceError(f"Proxmox pulled {wanted.reference} but {storage} does not list it.")


def create(deploy: Deploy, step: AppStep) -> None:
    """The container, from the pulled image: its data on mp0, DHCP on the deploy bridge."""
    settings = container_settings(deploy)
    claim_and_create(
        deploy, step, "create",
        lambda vmid: pve.create_container(deploy.client, deploy.app.node, vmid, settings),
    )  # fmt: skip


def container_settings(deploy: Deploy, with_data: bool = True) -> dict:
    """How the app's container is created from its pulled image; the data volume (mp0, at
    the image's data path) is left out for an update, which brings the old one's."""
    app, wanted = deploy.app, image(deploy)
    storage = template_storage(deploy)
    volume = pulled_volume(deploy, storage)
    if volume is None:
        raise AppServiceError(f"The image {wanted.reference} is no longer on {storage}.")
    rootfs = max(1, app.disk // 4) if wanted.data_path else app.disk
    settings = {
        "ostemplate": volume, "hostname": app.name, "storage": app.storage,
        "rootfs": f"{app.storage}:{rootfs}", "cores": app.cores, "memory": app.memory,
        "net0": f"name=eth0,bridge={current_app.config['DEPLOY_BRIDGE']},ip=dhcp",
        "unprivileged": 1,
    }  # fmt: skip
    if wanted.data_path and with_data:
        settings["mp0"] = f"{app.storage}:{max(1, app.disk - rootfs)},mp={wanted.data_path}"
    return settings


def environment(deploy: Deploy, image_env: str) -> str:
    """The container's `env` (NUL-separated KEY=value): the image's, then the app's. An
    update keeps the generated and typed secrets of the container it replaces."""
    kept = _previous_variables(deploy)
    values = compose_vm.environment(deploy, _generated(deploy, kept), kept)
    merged = _env_items(image_env)
    for name, value in image(deploy).environment.items():
        merged[name] = oci.fill(value, values)
    return "\0".join(f"{name}={value}" for name, value in merged.items())


def _env_items(env: str) -> dict[str, str]:
    return dict(item.partition("=")[::2] for item in env.split("\0") if "=" in item)


def _previous_variables(deploy: Deploy) -> dict[str, str]:
    """The Compose variables the container an update replaces was given (empty otherwise);
    its secrets are blanked in anything shown from now on."""
    app = deploy.app
    if app.previous_vmid is None:
        return {}
    config = pve_guests.config(deploy.client, app.node, "lxc", app.previous_vmid)
    kept = oci.variables_in(image(deploy).environment, _env_items(str(config.get("env") or "")))
    secret = {i.variable for i in deploy.catalog.inputs if i.is_secret}
    deploy.add_secrets({name: value for name, value in kept.items() if name in secret})
    return kept


def _generated(deploy: Deploy, kept: dict[str, str]) -> dict[str, str]:
    items = [i for i in deploy.catalog.inputs if i.type == "generated"]
    found = {i.variable: kept.get(i.variable) or compose_vm.new_secret(i.length) for i in items}
    deploy.add_secrets({i.name: found[i.variable] for i in items})
    return found


def probe(deploy: Deploy, step: AppStep) -> None:
    """Until the container's port answers the worker (HTTP below 500 at the path, or a TCP
    connection). A guest the portal has no route to is running but not reachable: that is
    said, not failed."""
    check = deploy.catalog.health
    assert check is not None  # the loader requires one
    limit = min(check.timeout, float(current_app.config["DEPLOY_HEALTH_TIMEOUT"]))
    start = time.monotonic()
    unreachable_since: float | None = None
    while True:
        asked = time.monotonic()
        outcome = answer(deploy.app.ip_address or "", check.port, check.path, min(5.0, limit))
        now = time.monotonic()
        if outcome == "ok":
            step.detail = f"{deploy.app.ip_address}:{check.port} answers"
            return
        if outcome == "unreachable":
            unreachable_since = unreachable_since or asked
            if now - unreachable_since >= min(REACH_GRACE, limit):
                step.status, step.detail = StepStatus.SKIPPED, NOT_REACHABLE
                return
        else:
            unreachable_since = None
        if now - start > limit:
            raise AppServiceError(
                f"The app did not answer on port {check.port} within {limit:g} s ({outcome})."
            )
        step.detail = outcome
        deploy.pause()


def answer(host: str, port: int, path: str | None, timeout: float = 5.0) -> str:
    """The app's answer: "ok", "unreachable" (no route, or no reply to connecting), or what
    it said instead."""
    try:
        if path is None:
            socket.create_connection((host, port), timeout=timeout).close()
            return "ok"
        response = requests.get(f"http://{host}:{port}{path}", timeout=(timeout, 10))
    except (TimeoutError, requests.ConnectTimeout):
        return "unreachable"
    except requests.ReadTimeout:
        return "no answer within 10 s"
    except (ConnectionRefusedError, requests.ConnectionError) as error:
        refused = isinstance(error, ConnectionRefusedError) or "refused" in str(error).lower()
        return "connection refused" if refused else "unreachable"
    except OSError:
        return "unreachable"
    return "ok" if response.status_code < 500 else f"HTTP {response.status_code}"


def set_environment(deploy: Deploy, step: AppStep) -> None:
    """Give the container the app's environment, over the one its image brought."""
    app = deploy.app
    config = pve_guests.config(deploy.client, app.node, "lxc", deploy.vmid)
    env = environment(deploy, str(config.get("env") or ""))
    pve.set_config(deploy.client, app.node, "lxc", deploy.vmid, env=env)
    step.detail = f"{env.count(chr(0)) + 1} variables"


RUN = {"pull": pull, "create": create, "environment": set_environment, "probe": probe}

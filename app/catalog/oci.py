"""A single-service Compose app as a Proxmox OCI application container (PVE >= 9.1).

Proxmox pulls the image itself (`oci-registry-pull`) and runs it as a container: no Docker,
no Compose. What the container needs is read from the Compose file's one service: the image,
its environment (with the deploy's values filled in), and the named volume that holds its
data (mounted as the container's mount point `mp0`, so the data outlives a re-create).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.catalog.compose import VARIABLE, load_yaml

DEFAULT_REGISTRY = "docker.io"
# What Proxmox cannot do for an OCI container that Compose does (docs/APPS.md).
UNSUPPORTED = ("command", "entrypoint", "build", "depends_on", "network_mode", "privileged",
               "cap_add", "devices", "user")  # fmt: skip


@dataclass(frozen=True)
class OciImage:
    """What a container made from the app's image needs."""

    reference: str  # docker.io/library/redis:8.10.1
    environment: dict[str, str]  # values may hold ${VAR}
    data_path: str | None  # where its named volume was mounted

    @property
    def file_stem(self) -> str:
        """The name of the image file in the template storage (without PVE's suffix)."""
        repository, _, tag = self.reference.rpartition(":")
        path = repository.split("/", 1)[1].removeprefix("library/")
        return re.sub(r"[^A-Za-z0-9._-]", "_", f"{path}_{tag}")


def reference(image: str) -> str:
    """A Compose image name as a full registry reference (Docker Hub's defaults made plain)."""
    first = image.split("/", 1)[0]
    if "/" not in image or not ("." in first or ":" in first or first == "localhost"):
        image = f"{DEFAULT_REGISTRY}/{image if '/' in image else 'library/' + image}"
    return image


def problems(compose_text: str, port: int) -> list[str]:
    """Why this Compose file cannot run as an OCI container answering on port (empty: it can)."""
    document = load_yaml(compose_text)
    services = document.get("services") or {}
    if len(services) != 1:
        return ["the oci runtime runs one service only"]
    [(name, service)] = services.items()
    found = [
        f"service {name}: the oci runtime cannot apply {k}" for k in UNSUPPORTED if k in service
    ]
    if len(_named_volumes(service)) > 1:
        found.append(f"service {name}: the oci runtime keeps one data volume")
    if "${PORTAL_APP_HOST}" in compose_text:
        found.append("PORTAL_APP_HOST is known only in a VM")
    if port not in _same_ports(service):
        found.append(f"service {name}: health port {port} is not published as {port}:{port}")
    return found


def image_of(compose_text: str) -> OciImage:
    """The image, environment and data path of the Compose file's one service."""
    [service] = load_yaml(compose_text)["services"].values()
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    volumes = _named_volumes(service)
    return OciImage(
        reference=reference(service["image"]),
        environment={str(k): "" if v is None else str(v) for k, v in environment.items()},
        data_path=volumes[0] if volumes else None,
    )


def fill(value: str, values: dict[str, str]) -> str:
    """A Compose value with its variables replaced (`${A:-x}` gives x when A is empty)."""

    def one(match: re.Match) -> str:
        text = match.group(0)
        if text == "$$":
            return "$"
        name = match.group(1) or match.group(2)
        found = values.get(name, "")
        default = re.match(r"\$\{\w+:?-(.*)\}$", text)
        return found if found or not default else default.group(1)

    return VARIABLE.sub(one, value)


def variables_in(environment: dict[str, str], env: dict[str, str]) -> dict[str, str]:
    """The variables a container's env holds: those the image's environment passes whole,
    as `NAME: ${VARIABLE}` (what an update needs to keep generated secrets)."""
    found = {}
    for name, value in environment.items():
        whole = re.fullmatch(r"\$\{(\w+)\}|\$(\w+)", value)
        if whole and name in env:
            found[whole.group(1) or whole.group(2)] = env[name]
    return found


def _named_volumes(service: dict) -> list[str]:
    """The container paths of the service's named volumes (not bind mounts)."""
    paths = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            source, target = volume.get("source"), volume.get("target")
        else:
            source, _, rest = str(volume).partition(":")
            target = rest.split(":")[0]
        if source and not source.startswith((".", "/", "~")) and target:
            paths.append(target)
    return paths


def _same_ports(service: dict) -> set[int]:
    """The ports the service publishes under their own number (`8080:8080`): the VM's port
    and the container's are then the same."""
    ports = set()
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            host, container = str(port.get("published", "")), str(port.get("target", ""))
        else:
            parts = str(port).split("/")[0].split(":")
            host, container = (parts[-2], parts[-1]) if len(parts) >= 2 else ("", "")
        if host == container and container.isdigit():
            ports.add(int(container))
    return ports

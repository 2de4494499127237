"""Reading the catalog: one folder per app, `catalog/<id>/app.yaml` and its `compose.yaml`.

Checked when the portal starts: a folder that is wrong stops the start with a message naming
the file and the field (CatalogError). Besides the shape of app.yaml (entry.py): the Compose
file follows the compose-spec schema with pinned images (compose.py), every `${VAR}` in it is
an input's, a generated secret's or a portal variable, and an app offered as an OCI container
can be one (oci.py).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from app.catalog import compose, oci
from app.catalog.entry import PORTAL_VARIABLES, CatalogEntry
from app.exceptions import ConfigurationError

# What every VM app's form asks besides the app's own inputs (cloud-init; ignored for oci).
VM_INPUTS = (
    {"name": "login_user", "label": "Login user (VM)", "type": "string", "target": "ciuser",
     "required": True, "default": "debian", "pattern": "^[a-z_][a-z0-9_-]{0,31}$",
     "help": "The VM's cloud-init user. Lower-case letters, digits, '-' and '_'."},
    {"name": "ssh_key", "label": "SSH public key (VM)", "type": "ssh-key", "target": "sshkeys",
     "help": "To log in to the VM as that user; leave empty if you will not."},
)  # fmt: skip


class CatalogError(ConfigurationError):
    """A catalog folder that cannot be used, with the file and field in the message."""


def load_catalog(folder: Path, icons: Path) -> dict[str, CatalogEntry]:
    """Every app folder in folder (one holding app.yaml), by id; CatalogError for the first
    that is wrong. Read again only when a file changed (each web worker and `flask` command
    builds an app; the tests build hundreds)."""
    files = sorted(folder.glob("*/*.yaml"))
    stamps = tuple((str(path), path.stat().st_mtime_ns, path.stat().st_size) for path in files)
    return dict(_read_catalog(folder, icons, stamps))


@lru_cache(maxsize=4)
def _read_catalog(folder: Path, icons: Path, stamps: tuple) -> dict[str, CatalogEntry]:
    apps: dict[str, CatalogEntry] = {}
    for path in sorted(folder.glob("*/app.yaml")):
        entry = load_app(path.parent, f"{folder.name}/{path.parent.name}")
        if entry.icon and not (icons / entry.icon).is_file():
            raise CatalogError(
                f"{folder.name}/{entry.id}/app.yaml: icon: {entry.icon} is not in {icons}"
            )
        apps[entry.id] = entry
    return apps


def load_app(app_folder: Path, shown: str) -> CatalogEntry:
    """One app folder as an entry (its id is the folder's name)."""
    data = _yaml(app_folder / "app.yaml", f"{shown}/app.yaml")
    compose_path = app_folder / "compose.yaml"
    if not compose_path.is_file():
        raise CatalogError(f"{shown}: compose.yaml is missing")
    text = compose_path.read_text(encoding="utf-8")
    older = {
        path.stem: path.read_text(encoding="utf-8")
        for path in sorted((app_folder / "versions").glob("*.yaml"), reverse=True)
    }
    fields = {**data, "id": app_folder.name, "compose": text, "older": older}
    fields["inputs"] = [*(data.get("inputs") or []), *VM_INPUTS]
    try:
        entry = CatalogEntry.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        # A check across fields names its field in its message; others have a location.
        field = ".".join(str(part) for part in first["loc"])
        raise CatalogError(f"{shown}/app.yaml: {field + ': ' if field else ''}{message}") from None
    for version, name in [
        (entry.version, "compose.yaml"),
        *((v, f"versions/{v}.yaml") for v in older),
    ]:
        found = _compose_problems(entry, entry.compose_for(version))
        if found:
            raise CatalogError(f"{shown}/{name}: {found[0]}")
    return entry


def _compose_problems(entry: CatalogEntry, text: str) -> list[str]:
    known = {i.variable for i in entry.inputs if i.target == "env"} | set(PORTAL_VARIABLES)
    found = compose.problems(text, known)
    if not found and "oci" in entry.runtimes and entry.health is not None:
        found = [f"runtimes: oci: {p}" for p in oci.problems(text, entry.health.port)]
    return found


def _yaml(path: Path, shown: str) -> dict:
    try:
        data = compose.load_yaml(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise CatalogError(f"{shown}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{shown}: not a mapping of fields")
    if "id" in data:
        raise CatalogError(f"{shown}: id: leave it out; the folder's name is the app's id")
    return data

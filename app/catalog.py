"""The app catalog: one YAML file per app in catalog/, validated when the portal starts.

A file that does not validate stops the start with a message naming the file and the field
(CatalogError). Each file is a `CatalogEntry`; a deploy (app.services.apps.deploy) reads
everything it needs from its entry.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, model_validator

from app.exceptions import ConfigurationError

NAME = r"^[a-z][a-z0-9_]*$"
APP_ID = r"^[a-z0-9][a-z0-9-]*$"
VM_TARGETS = ("ciuser", "cipassword", "sshkeys", "ipconfig0", "provision")
CT_TARGETS = ("password", "ssh-public-keys", "provision")
BUILT_IN_VALUES = ("ip", "name", "vmid")  # what outputs may name besides the inputs


class CatalogError(ConfigurationError):
    """A catalog file that cannot be used, with the file and field in the message."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Amount(Strict):
    """A resource's default and minimum (cores; memory in MiB; disk in GiB)."""

    default: int = Field(gt=0)
    minimum: int = Field(gt=0)

    @model_validator(mode="after")
    def default_meets_minimum(self) -> Amount:
        if self.default < self.minimum:
            raise ValueError(f"default {self.default} is below the minimum {self.minimum}")
        return self


class Resources(Strict):
    cores: Amount
    memory: Amount
    disk: Amount


class Source(Strict):
    """A template guest in the cluster (by name), or for containers an ostemplate volume."""

    template: str | None = Field(default=None, min_length=1, max_length=128)
    ostemplate: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]+:vztmpl/\S+$")

    @model_validator(mode="after")
    def exactly_one(self) -> Source:
        if (self.template is None) == (self.ostemplate is None):
            raise ValueError("give either template or ostemplate")
        return self


class Input(Strict):
    """A field of the deploy form, and where its value goes."""

    name: str = Field(pattern=NAME, max_length=40)
    label: str = Field(min_length=1, max_length=80)
    type: Literal["string", "integer", "boolean", "choice", "secret", "ssh-key"]
    target: Literal["ciuser", "cipassword", "sshkeys", "ipconfig0", "password",
                    "ssh-public-keys", "provision"]  # fmt: skip
    default: str | int | bool | None = None
    required: bool = False
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    choices: list[str] | None = None
    help: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def consistent(self) -> Input:
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as error:
                raise ValueError(f"pattern is not a valid regular expression: {error}") from None
        if (self.minimum is not None or self.maximum is not None) and self.type != "integer":
            raise ValueError("minimum and maximum are for integer inputs")
        if (self.type == "choice") != bool(self.choices):
            raise ValueError("a choice input needs choices, and only a choice input has them")
        if self.type == "secret" and self.default is not None:
            raise ValueError("a secret input cannot have a default")
        return self


class Output(Strict):
    """What the app page shows once the app runs; {ip}, {name}, {vmid} and inputs are filled in."""

    label: str = Field(min_length=1, max_length=80)
    value: str = Field(min_length=1, max_length=300)
    kind: Literal["url", "text"] = "text"


class CatalogEntry(Strict):
    """One app of the catalog (one file)."""

    id: str = Field(pattern=APP_ID, max_length=40)
    name: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, max_length=1000)
    category: str = Field(min_length=1, max_length=40)
    version: str = Field(min_length=1, max_length=40)
    website: HttpUrl
    icon: str = Field(pattern=r"^[a-z0-9-]+\.svg$")
    guest_type: Literal["qemu", "lxc"]
    source: Source
    resources: Resources
    inputs: tuple[Input, ...] = ()
    provision: tuple[tuple[str, ...], ...] = ()
    outputs: tuple[Output, ...] = ()

    @model_validator(mode="after")
    def fits_its_guest_type(self) -> CatalogEntry:
        targets = VM_TARGETS if self.guest_type == "qemu" else CT_TARGETS
        for field in self.inputs:
            if field.target not in targets:
                raise ValueError(
                    f"inputs.{field.name}.target: {field.target} is not for {self.guest_type} "
                    f"apps (use one of {', '.join(targets)})"
                )
        if self.source.ostemplate and self.guest_type != "lxc":
            raise ValueError("source.ostemplate: an ostemplate is for lxc apps only")
        if self.provision and self.guest_type != "qemu":
            raise ValueError("provision: commands run through the QEMU guest agent: qemu apps only")
        names = {field.name for field in self.inputs}
        if len(names) != len(self.inputs):
            raise ValueError("inputs: two inputs have the same name")
        for command in self.provision:
            if not command or not command[0].startswith("/"):
                raise ValueError(f"provision command {list(command)}: start with an absolute path")
            _check_placeholders(" ".join(command), names, "provision")
        for output in self.outputs:
            _check_placeholders(output.value, names | set(BUILT_IN_VALUES), "outputs")
        return self

    @property
    def kind_label(self) -> str:
        return "VM" if self.guest_type == "qemu" else "Container"


def _check_placeholders(text: str, known: set[str], where: str) -> None:
    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None and name not in known:
            raise ValueError(f"{where}: {{{name}}} is not an input")


def load_catalog(folder: Path, icons: Path) -> dict[str, CatalogEntry]:
    """Every `*.yaml` in folder, by id; CatalogError for the first file that is wrong."""
    apps: dict[str, CatalogEntry] = {}
    for path in sorted(folder.glob("*.yaml")):
        shown = f"{folder.name}/{path.name}"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            raise CatalogError(f"{shown}: not valid YAML: {error}") from None
        try:
            app = CatalogEntry.model_validate(data)
        except ValidationError as error:
            first = error.errors()[0]
            message = first["msg"].removeprefix("Value error, ")
            # A check across fields names its field in its message; others have a location.
            field = ".".join(str(part) for part in first["loc"])
            raise CatalogError(f"{shown}: {field + ': ' if field else ''}{message}") from None
        if app.id != path.stem:
            raise CatalogError(f"{shown}: id: {app.id!r} must match the file name {path.stem!r}")
        if not (icons / app.icon).is_file():
            raise CatalogError(f"{shown}: icon: {app.icon} is not in {icons}")
        apps[app.id] = app
    return apps

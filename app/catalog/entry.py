"""What one catalog app is: `CatalogEntry`, read from `catalog/<id>/app.yaml` (loader.py).

An app runs its Compose file (beside app.yaml) in a VM cloned from the portal's base template
(runtime "vm"), or, when it is a single service, as a Proxmox OCI application container
(runtime "oci", PVE >= 9.1). The VMs made from a cluster's own templates are entries too
(`template` set, no Compose file: app.services.apps.catalog.template_app).
"""

from __future__ import annotations

import re
import string
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

NAME = r"^[a-z][a-z0-9_]*$"
APP_ID = r"^[a-z0-9][a-z0-9-]*$"
BASE_TEMPLATE = "portal-debian-13"  # the VM template the portal makes (docs/APPS.md)
BASE_ID = "portal-base"  # the catalog id of a build of it
BUILT_IN_VALUES = ("ip", "name", "vmid")  # what outputs may name besides the inputs
# Variables every Compose file may use besides its inputs' (written into the VM's .env).
PORTAL_VARIABLES = {
    "PORTAL_APP_NAME": "the app's name (also its guest's host name)",
    "PORTAL_APP_HOST": "the guest's IPv4 address (VM runtime only)",
}
Runtime = Literal["vm", "oci"]
GUEST_TYPES: dict[str, str] = {"vm": "qemu", "oci": "lxc"}
RUNTIME_LABELS = {"vm": "in a VM", "oci": "as an OCI container"}


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


class Input(Strict):
    """A value the app gets: a field of the deploy form, or a `generated` secret the portal
    makes. It reaches the Compose file as the environment variable of its name in upper case
    (`admin_email` -> `${ADMIN_EMAIL}`), or cloud-init when its target says so (VM only)."""

    name: str = Field(pattern=NAME, max_length=40)
    label: str = Field(min_length=1, max_length=80)
    type: Literal["string", "integer", "boolean", "choice", "secret", "generated", "ssh-key"]
    target: Literal["env", "ciuser", "sshkeys"] = "env"
    default: str | int | bool | None = None
    required: bool = False
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    choices: list[str] | None = None
    length: int = Field(default=32, ge=16, le=64)  # of a generated secret
    help: str | None = Field(default=None, max_length=200)

    @property
    def variable(self) -> str:
        return self.name.upper()

    @property
    def is_secret(self) -> bool:
        return self.type in ("secret", "generated")

    @property
    def on_form(self) -> bool:
        return self.type != "generated"

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
        if self.is_secret and self.default is not None:
            raise ValueError(f"a {self.type} input cannot have a default")
        if self.type == "generated" and self.target != "env":
            raise ValueError("a generated secret goes to the app's environment (target env)")
        return self


class Output(Strict):
    """What the app page shows once the app runs; {ip}, {name}, {vmid} and inputs are filled in."""

    label: str = Field(min_length=1, max_length=80)
    value: str = Field(min_length=1, max_length=300)
    kind: Literal["url", "text"] = "text"


class Health(Strict):
    """When the app counts as running: its Compose services are up (and healthy, for those with
    a healthcheck), and `port` answers — over HTTP at `path` (any status below 500) when one
    is given, else a TCP connection."""

    # 1024 and up: what a web UI is published on (and what the demo's stand-ins, which run
    # as a normal user, can bind); DNS or the like may publish lower ports besides.
    port: int = Field(ge=1024, le=65535)
    path: str | None = Field(default=None, pattern=r"^/\S*$", max_length=200)
    timeout: int = Field(default=600, ge=10, le=3600)  # seconds after `compose up`


class CatalogEntry(Strict):
    """One app of the catalog (one folder), or a VM template of the cluster."""

    id: str = Field(pattern=APP_ID, max_length=40)
    name: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, max_length=1000)
    category: str = Field(min_length=1, max_length=40)
    version: str = Field(min_length=1, max_length=40)
    website: HttpUrl
    icon: str | None = Field(default=None, pattern=r"^[a-z0-9-]+\.svg$")
    runtimes: tuple[Runtime, ...] = ("vm",)
    # The VM template a VM is cloned from: the cluster's own (a template VM), or for a Compose
    # app one an admin prepared like the base template (default: BASE_TEMPLATE).
    template: str | None = Field(default=None, min_length=1, max_length=128)
    compose: str | None = None  # the Compose file's text
    older: dict[str, str] = {}  # earlier versions still offered: version -> Compose file
    health: Health | None = None
    resources: Resources
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = ()

    @model_validator(mode="after")
    def consistent(self) -> CatalogEntry:
        if not self.runtimes or len(set(self.runtimes)) != len(self.runtimes):
            raise ValueError("runtimes: name vm, oci or both, once each")
        if self.compose is None and self.template is None:
            raise ValueError("an app has a Compose file, or names the VM template it makes")
        if self.compose is not None and self.health is None:
            raise ValueError("health: a Compose app needs a health check")
        names = [field.name for field in self.inputs]
        if len(set(names)) != len(names):
            raise ValueError("inputs: two inputs have the same name")
        for output in self.outputs:
            _check_placeholders(output.value, {*names, *BUILT_IN_VALUES}, "outputs")
        return self

    @property
    def vm_template(self) -> str:
        """The name of the VM template a VM of this app is cloned from."""
        return self.template or BASE_TEMPLATE

    @property
    def kind_label(self) -> str:
        if self.compose is None:
            return "VM"
        return "Compose in a VM or OCI container" if "oci" in self.runtimes else "Compose in a VM"

    @property
    def form_inputs(self) -> tuple[Input, ...]:
        return tuple(i for i in self.inputs if i.on_form)

    def versions(self) -> list[str]:
        """The versions a deploy may choose, newest (this entry's) first."""
        return [self.version, *self.older]

    def compose_for(self, version: str | None) -> str:
        """The Compose file of a version (None: the newest); KeyError for one not offered."""
        if version in (None, self.version):
            return self.compose or ""
        return self.older[str(version)]

    def secret_names(self) -> list[str]:
        return [i.name for i in self.inputs if i.is_secret]


def _check_placeholders(text: str, known: set[str], where: str) -> None:
    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None and name not in known:
            raise ValueError(f"{where}: {{{name}}} is not an input")

"""What the API reads and answers, as pydantic models: spectree checks requests against them
and writes the OpenAPI document from them. They hold shapes only: the rules (a name's form,
an app's minimum resources, quotas) are the forms' and services' own, as on the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """An error (RFC 9457 problem details); `reference` names its Sentry event."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    reference: str | None = None
    errors: dict[str, list[str]] | None = None


class GuestQuery(BaseModel):
    """The dashboard's filters, sort order and page (checked as the dashboard checks them:
    an unknown value is ignored, and `problems` says so)."""

    node: str = ""
    status: str = Field("", description="running, stopped, paused or unknown")
    type: str = Field("", description="qemu or lxc")
    q: str = Field("", description="part of the name, or the VMID")
    sort: str = Field("vmid", description="vmid, name, type, node, status, cpu, mem, uptime")
    order: str = Field("asc", description="asc or desc")
    page: str = Field("1", description="from 1; 100 guests a page")


class GuestOut(BaseModel):
    vmid: int
    name: str
    type: str
    node: str
    status: str
    cpu: float
    cores: int
    memory_mib: int
    memory_used_mib: int
    disk_gib: int
    uptime: int
    tags: list[str]
    template: bool


class GuestList(BaseModel):
    guests: list[GuestOut]
    page: int
    pages: int
    matching: int
    problems: list[str]


class Keyed(BaseModel):
    """A request that starts work: the same request_key (hex) starts it once."""

    request_key: str | None = Field(None, max_length=64, pattern=r"^[0-9a-f]+$")


class SnapshotIn(Keyed):
    name: str
    description: str = ""
    with_ram: bool = False


class TaskOut(BaseModel):
    id: int
    action: str
    node: str
    guest_type: str
    vmid: int
    status: str
    exit_status: str | None
    succeeded: bool
    started_at: datetime
    ended_at: datetime | None


class TaskLogQuery(BaseModel):
    start: int = Field(0, ge=0, le=10_000_000, description="the first line to send")
    quiet: int = Field(0, ge=0, le=10_000_000, description="the last answer's `quiet`")


class TaskLog(BaseModel):
    """New lines, and what to ask with next: `start=next_start&quiet=quiet`."""

    task: TaskOut
    lines: list[str]
    next_start: int
    quiet: int


class InputOut(BaseModel):
    """A deploy input; one whose target is not `env` (cloud-init's user and key) is for VMs."""

    name: str
    label: str
    type: str
    target: str
    required: bool
    default: Any = None


class CatalogEntryOut(BaseModel):
    id: str
    name: str
    description: str
    category: str
    version: str | None
    versions: list[str]
    runtimes: list[str]
    inputs: list[InputOut]


class Catalog(BaseModel):
    apps: list[CatalogEntryOut]


class StepOut(BaseModel):
    name: str
    label: str
    status: str
    detail: str | None


class AppOut(BaseModel):
    id: int
    catalog_id: str
    name: str
    status: str
    version: str | None
    guest_type: str
    node: str
    vmid: int | None
    ip_address: str | None
    cores: int
    memory: int
    disk: int
    outputs: list[dict[str, Any]]
    error: str | None
    error_reference: str | None
    update_note: str | None
    steps: list[StepOut]


class AppList(BaseModel):
    apps: list[AppOut]


class DeployIn(Keyed):
    catalog_id: str
    name: str
    runtime: Literal["vm", "oci"] = "vm"
    node: str = "auto"
    storage: str
    cores: int | None = None
    memory: int | None = None
    disk: int | None = None
    version: str | None = None
    keep_on_failure: bool = False
    inputs: dict[str, Any] = {}


class CloneIn(Keyed):
    name: str
    node: str | None = None


class UpdateIn(Keyed):
    inputs: dict[str, Any] = {}


class QuotaOut(BaseModel):
    limits: dict[str, int | None]
    used: dict[str, int]


class Me(BaseModel):
    id: int
    username: str
    role: str
    token_name: str
    token_scope: str
    token_expires_at: datetime

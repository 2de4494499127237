"""The API's guests: the dashboard's list, one guest, power actions and snapshots (each a
Proxmox task: the answer is the task, to follow at /api/v1/tasks/<id>)."""

from __future__ import annotations

from flask import request
from flask_login import current_user
from spectree import Response

from app.api.base import bp, spec
from app.api.forms import NO_CSRF, checked, formdata, request_key
from app.api.schemas import GuestList, GuestOut, GuestQuery, Keyed, Problem, SnapshotIn, TaskOut
from app.api.tasks import task_out
from app.exceptions import NotFoundError
from app.guests.forms import SnapshotForm
from app.proxmox.cluster import MIB, Guest
from app.services import dashboard, ownership
from app.services.guests import actions

TAGS = ("guests",)
PROBLEMS = {"HTTP_401": Problem, "HTTP_404": Problem, "HTTP_422": Problem}


def guest_out(guest: Guest) -> GuestOut:
    return GuestOut(
        vmid=guest.vmid, name=guest.name, type=guest.type, node=guest.node,
        status=guest.status, cpu=guest.cpu, cores=guest.maxcpu, memory_mib=guest.memory_mib,
        memory_used_mib=guest.mem // MIB, disk_gib=guest.disk_gib, uptime=guest.uptime,
        tags=list(guest.tags), template=guest.template,
    )  # fmt: skip


def _guest(vmid: int) -> Guest:
    """The guest with this VMID if the caller may see it; NotFoundError otherwise."""
    for guest in ownership.visible_resources(current_user).guests:
        if guest.vmid == vmid:
            return guest
    raise NotFoundError(f"There is no guest {vmid} that you can see.")


@bp.get("/guests")
@spec.validate(query=GuestQuery, resp=Response(HTTP_200=GuestList, **PROBLEMS), tags=TAGS)
def list_guests():
    """The guests you can see (templates left out), filtered, sorted and paged like the
    dashboard."""
    resources = ownership.visible_resources(current_user)
    query, problems = dashboard.parse_query(request.args, [n.name for n in resources.nodes])
    board = dashboard.build_dashboard(resources, query)
    return GuestList(
        guests=[guest_out(g) for g in board.guests], page=board.page, pages=board.pages,
        matching=board.matching, problems=problems,
    )  # fmt: skip


@bp.get("/guests/<int:vmid>")
@spec.validate(resp=Response(HTTP_200=GuestOut, **PROBLEMS), tags=TAGS)
def get_guest(vmid: int):
    """One guest you can see."""
    return guest_out(_guest(vmid))


@bp.post("/guests/<int:vmid>/power/<action>")
@spec.validate(json=Keyed, resp=Response(HTTP_202=TaskOut, **PROBLEMS), tags=TAGS)
def power(vmid: int, action: str, json: Keyed):
    """start, shutdown, stop, reboot (and suspend, resume for VMs): the task it started."""
    guest = _guest(vmid)
    if not actions.is_power_action(guest.type, action):
        raise NotFoundError(f"A {guest.type} guest has no power action {action[:20]!r}.")
    key = request_key(json.request_key)
    return task_out(actions.power(current_user, guest, action, key)), 202


@bp.post("/guests/<int:vmid>/snapshots")
@spec.validate(json=SnapshotIn, resp=Response(HTTP_202=TaskOut, **PROBLEMS), tags=TAGS)
def snapshot(vmid: int, json: SnapshotIn):
    """Take a snapshot (with a running VM's RAM when with_ram): the task it started."""
    guest = _guest(vmid)
    values = {**json.model_dump(), "request_key": request_key(json.request_key)}
    form = checked(SnapshotForm(formdata=formdata(values), meta=NO_CSRF))
    task = actions.snapshot(
        current_user, guest, form.name.data, form.description.data or "",
        bool(form.with_ram.data), form.request_key.data,
    )  # fmt: skip
    return task_out(task), 202

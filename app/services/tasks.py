"""Proxmox tasks the portal starts, pages and deploys alike: one lifecycle.

A task is recorded (a Task row, claimed by its form's request key, so a double-submitted form
starts one task, not two), begun (the Proxmox call; the UPID kept), checked or followed until
it has stopped, and finished (the outcome saved; a failure reported once, or raised to the
deploy that waits for it). Following: one Proxmox call per poll (the log from the last line
seen); PVE's last line, `TASK OK` / `TASK WARNINGS: n` / `TASK ERROR: ...`, ends the task.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.exceptions import AppServiceError, NotFoundError, ProxmoxError
from app.extensions import db
from app.models import Task, TaskStatus, User, utcnow
from app.observability.reports import report_proxmox_error
from app.proxmox import ProxmoxClient, get_client
from app.proxmox import guests as pve_guests
from app.proxmox.cluster import Guest
from app.services import audit, ownership


def start(
    user: User,
    guest: Guest,
    action: str,
    call: Callable[[ProxmoxClient], str | None],
    request_key: str,
    detail: str | None = None,
) -> Task:
    """Run call (which returns a UPID) once per request_key and record it; returns the Task.

    A call that Proxmox did at once, without a task (e.g. a disk resize on PVE 7), is
    recorded as a task that has ended OK.

    When Proxmox refuses, the refusal goes to the audit log, nothing else is kept, and the
    ProxmoxError is raised for the page to show PVE's reason.
    """
    existing = started(request_key)
    if existing is not None:
        return existing
    task = record(user, guest, action, request_key)
    try:
        db.session.commit()
    except IntegrityError:
        return started_at_once(request_key)
    return launch(user, task, call, detail)


def new(
    user_id: int | None, action: str, node: str, guest_type: str, vmid: int, request_key: str,
    app_id: int | None = None, claim: dict | None = None,
) -> Task:  # fmt: skip
    """A pending Task, added to the session (the caller commits it before `begin`)."""
    task = Task(
        request_key=request_key, user_id=user_id, action=action, node=node,
        guest_type=guest_type, vmid=vmid, app_id=app_id, claim=claim,
    )  # fmt: skip
    db.session.add(task)
    return task


def record(
    user: User, guest: Guest, action: str, request_key: str, claim: dict | None = None
) -> Task:
    """A pending Task for this form on guest (the caller commits it)."""
    task = new(user.id, action, guest.node, guest.type, guest.vmid, request_key, claim=claim)
    ownership.forget_if_reused(guest)
    return task


def begin(task: Task, call: Callable[[ProxmoxClient], str | None], client: ProxmoxClient) -> bool:
    """Make a recorded task's Proxmox call. True: it runs in Proxmox (its UPID is kept);
    False: Proxmox did it at once, without a task. A call that raises started nothing: the
    row is deleted (the caller commits) and the error goes on."""
    try:
        upid = call(client)
    except Exception:
        db.session.delete(task)
        raise
    if upid:
        task.upid, task.status = str(upid), TaskStatus.RUNNING
    return bool(upid)


def launch(
    user: User, task: Task, call: Callable[[ProxmoxClient], str | None], detail: str | None
) -> Task:
    """Make the Proxmox call of a recorded (committed) task and audit it; see `start`."""
    target = audit.target_of(task.guest_type, task.vmid, task.node)
    try:
        running = begin(task, call, get_client())
    except Exception as error:  # nothing was started, and the form's key is free again
        if isinstance(error, ProxmoxError):
            result = "refused" if error.kind == "api" else "failed"
            audit.record(user, task.action, target, result, error.public_message)
        db.session.commit()
        raise
    if not running:
        task.status, task.exit_status, task.ended_at = TaskStatus.STOPPED, "OK", utcnow()
    audit.record(user, task.action, target, "started", detail, task)
    db.session.commit()
    return task


def started(request_key: str) -> Task | None:
    """The task this form's request key started already, if any."""
    return db.session.scalar(select(Task).where(Task.request_key == request_key))


def started_at_once(request_key: str) -> Task:
    """After the IntegrityError of a form submitted twice at the same moment: the task the
    other submission recorded (this one's is rolled back)."""
    db.session.rollback()
    return db.session.scalars(select(Task).where(Task.request_key == request_key)).one()


# After this many polls without a new log line, a poll asks for the task's status instead: a
# task whose worker died never writes its final line.
QUIET_POLLS = 10


@dataclass
class Progress:
    """New log lines since `start`, where the next poll starts, and the task as it is now.

    `quiet` counts the polls in a row that brought no new line.
    """

    task: Task
    lines: list[str]
    next_start: int
    quiet: int = 0


def follow(task: Task, start: int = 0, quiet: int = 0) -> Progress:
    """One Proxmox call: the task's log from line `start` (its status after a quiet spell);
    ends the task when PVE says it has ended."""
    if task.upid is None:
        return Progress(task, [], start)
    client = get_client()
    if task.status == TaskStatus.RUNNING and quiet >= QUIET_POLLS:
        check(task, client)
        return Progress(task, [], start)
    entries = pve_guests.task_log(client, task.node, task.upid, start)
    lines = [str(entry.get("t", "")) for entry in entries]
    if task.status == TaskStatus.RUNNING:
        exit_status = exit_status_in(lines)
        if exit_status is not None:
            finish(task, exit_status)
    return Progress(task, lines, start + len(entries), 0 if lines else quiet + 1)


def exit_status_in(lines: list[str]) -> str | None:
    """PVE's exit status from a task's final log line (`OK`, `WARNINGS: n`, the error)."""
    last = lines[-1].strip() if lines else ""
    if last == "TASK OK":
        return "OK"
    if last.startswith("TASK WARNINGS: "):
        return last.removeprefix("TASK ")
    if last.startswith("TASK ERROR: "):
        return last.removeprefix("TASK ERROR: ")
    return None


def check(task: Task, client: ProxmoxClient) -> bool:
    """One status call for a running task; finishes it when Proxmox says it has stopped
    (True then)."""
    status = pve_guests.task_status(client, task.node, str(task.upid))
    if status.get("status") != "stopped":
        return False
    finish(task, str(status.get("exitstatus") or "unknown"))
    return True


def wait(task: Task, client: ProxmoxClient, timeout: float, pause: Callable[[], None]) -> None:
    """Poll until the task has stopped, calling pause() between polls; its `failure` is
    raised if it failed, AppServiceError if it did not end within timeout seconds."""
    if task.upid is None:
        return
    deadline = time.monotonic() + timeout
    while task.status != TaskStatus.STOPPED and not check(task, client):
        if time.monotonic() > deadline:
            raise AppServiceError(f"The {task.action} task did not end in time.")
        pause()
    if task.failed:
        raise failure(task)


def failure(task: Task) -> ProxmoxError:
    """The error of a task that failed, with PVE's exit status as its message."""
    return ProxmoxError(
        f"The {task.action} task of {task.guest_type}/{task.vmid} failed: {task.exit_status}",
        kind="task", pve_message=task.exit_status, node=task.node, vmid=task.vmid,
        upid=task.upid,
    )  # fmt: skip


def finish(task: Task, exit_status: str) -> None:
    """Mark the task stopped; the poll that does it reports a failure to Sentry (once).

    A deploy's tasks are the exception: the deploy reports its own failure, once, with the
    step it failed at. A deleted guest's VMID may be reused, so its assignment ends with the
    delete task.
    """
    changed = (
        db.session.execute(
            update(Task)
            .where(Task.id == task.id, Task.status == TaskStatus.RUNNING)
            .values(status=TaskStatus.STOPPED, exit_status=exit_status, ended_at=utcnow())
            .returning(Task.id)
        ).first()
        is not None
    )
    db.session.refresh(task)
    if changed and task.action == "delete" and task.succeeded:
        ownership.forget(task.vmid)
    if changed and task.action == "restore-new" and task.succeeded:
        _give_restored_guest(task)
    db.session.commit()
    if changed and task.failed and task.app_id is None:
        report_proxmox_error(failure(task), started_by=task.user)


def _give_restored_guest(task: Task) -> None:
    """A guest restored as new belongs to the user who restored it (admins see it anyway)."""
    if task.user is None or task.user.is_admin:
        return
    try:
        (guest,) = ownership.find_by_vmids([task.vmid])
    except (NotFoundError, ProxmoxError):  # gone already, or Proxmox away: an admin assigns it
        return
    ownership.assign(guest, task.user)


def settle(pve_tasks: list[dict]) -> None:
    """End the portal's running tasks that PVE's task list shows as ended (no extra call)."""
    ended = {t["upid"]: str(t["status"]) for t in pve_tasks if t.get("endtime") and t.get("status")}
    if ended:
        running = select(Task).where(Task.upid.in_(ended), Task.status == TaskStatus.RUNNING)
        for task in db.session.scalars(running).all():
            finish(task, ended[task.upid])


def sync_running() -> int:
    """End every running task that Proxmox says has stopped (one status call per running task).

    The worker runs this every minute, so a task nobody watches still ends, and its failure is
    reported. A task whose node does not answer is asked again next time; ProxmoxError when
    Proxmox itself is away. Returns how many tasks it ended.
    """
    running = db.session.scalars(
        select(Task).where(Task.status == TaskStatus.RUNNING, Task.upid.is_not(None))
    ).all()
    ended = 0
    client = get_client()
    for task in running:
        try:
            ended += check(task, client)
        except ProxmoxError as error:
            if error.kind != "api":  # Proxmox itself is away: no use asking about the rest
                raise
            # e.g. its node is offline (595): ask again next time
    return ended


def get_for(user: User, task_id: int) -> Task:
    """The task if user may see it (ownership.task_clause); NotFoundError otherwise."""
    query = select(Task).where(Task.id == task_id, ownership.task_clause(user))
    task = db.session.scalar(query)
    if task is None:
        raise NotFoundError("There is no such task that you can see.")
    return task


def visible(user: User, vmid: int | None = None, limit: int = 100) -> list[Task]:
    """Newest first: the tasks user may see (one guest's when vmid is given)."""
    query = (
        select(Task)
        .where(Task.status != TaskStatus.PENDING, ownership.task_clause(user))
        .order_by(Task.started_at.desc(), Task.id.desc())
        .limit(limit)
    )
    if vmid is not None:
        query = query.where(Task.vmid == vmid)
    return list(db.session.scalars(query))

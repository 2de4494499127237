"""The API's tasks: one task's status, and its log from a line on (following it)."""

from __future__ import annotations

from flask_login import current_user
from spectree import Response

from app.api.base import bp, spec
from app.api.schemas import Problem, TaskLog, TaskLogQuery, TaskOut
from app.models import Task
from app.services import tasks

TAGS = ("tasks",)
PROBLEMS = {"HTTP_401": Problem, "HTTP_404": Problem}


def task_out(task: Task) -> TaskOut:
    return TaskOut(
        id=task.id, action=task.action, node=task.node, guest_type=task.guest_type,
        vmid=task.vmid, status=task.status, exit_status=task.exit_status,
        succeeded=task.succeeded, started_at=task.started_at, ended_at=task.ended_at,
    )  # fmt: skip


@bp.get("/tasks/<int:task_id>")
@spec.validate(resp=Response(HTTP_200=TaskOut, **PROBLEMS), tags=TAGS)
def get_task(task_id: int):
    """A task you can see, as the portal last saw it (the log call below follows it)."""
    return task_out(tasks.get_for(current_user, task_id))


@bp.get("/tasks/<int:task_id>/log")
@spec.validate(query=TaskLogQuery, resp=Response(HTTP_200=TaskLog, **PROBLEMS), tags=TAGS)
def task_log(task_id: int, query: TaskLogQuery):
    """The task's log lines from `start` on, and what to ask with next: call it until the
    task's status is `stopped` (one Proxmox call each time; after a quiet spell the call asks
    for the task's status instead, as the task page does)."""
    task = tasks.get_for(current_user, task_id)
    progress = tasks.follow(task, query.start, query.quiet)
    return TaskLog(
        task=task_out(progress.task), lines=progress.lines, next_start=progress.next_start,
        quiet=progress.quiet,
    )  # fmt: skip

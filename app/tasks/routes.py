"""Task views: a page per task that follows it live (htmx), and the list of tasks."""

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from app.exceptions import ProxmoxError
from app.models import TaskStatus
from app.services import tasks
from app.validation import MAX_ID, int_arg

bp = Blueprint("tasks", __name__)


@bp.get("/tasks")
@login_required
def index():
    """The tasks the portal started on guests the user may see (one guest's with ?vmid=)."""
    problems: list[str] = []
    vmid = int_arg(request.args, "vmid", None, 0, MAX_ID, problems)
    return render_template(
        "tasks/index.html",
        tasks=tasks.visible(current_user, vmid=vmid),
        vmid=vmid,
        problems=problems,
    )


@bp.get("/tasks/<int:task_id>")
@login_required
def show(task_id: int):
    """The task's status and log; the page keeps polling `progress` while it runs.

    A finished task whose log Proxmox no longer has (logs rotate; a node may be reinstalled)
    still shows what the portal knows about it."""
    task = tasks.get_for(current_user, task_id)
    try:
        progress = tasks.follow(task)
    except ProxmoxError as error:
        if error.kind != "api" or task.status != TaskStatus.STOPPED:
            raise
        progress = tasks.Progress(task, [], 0)
        return render_template("tasks/show.html", progress=progress, log_gone=error.pve_message)
    return render_template("tasks/show.html", progress=progress)


@bp.get("/tasks/<int:task_id>/progress")
@login_required
def progress(task_id: int):
    """htmx fragment: the log lines after `start`, and the status (one Proxmox call).

    If Proxmox does not answer, the fragment says so and the page tries again a little later;
    a background poll is not reported to Sentry (pages that fail to load are).
    """
    task = tasks.get_for(current_user, task_id)
    start = int_arg(request.args, "start", 0, 0, MAX_ID, [])
    quiet = int_arg(request.args, "quiet", 0, 0, MAX_ID, [])
    try:
        progress = tasks.follow(task, start, quiet)
    except ProxmoxError as error:
        progress = tasks.Progress(task, [], start)
        return render_template(
            "tasks/_progress.html",
            progress=progress,
            poll=True,
            problem=error.message_for(current_user.is_admin),
        )
    return render_template("tasks/_progress.html", progress=progress, poll=True)

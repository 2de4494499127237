"""Task pages: live progress and log of each task, and task lists."""

from flask import Blueprint

bp = Blueprint("tasks", __name__)

from app.tasks import routes  # noqa: E402,F401 - registers the views on bp

"""Task pages: live progress and log of each task, and task lists."""

from app.tasks.routes import bp

__all__ = ["bp"]

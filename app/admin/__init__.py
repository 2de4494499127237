"""Administration: user accounts, and the base template the Compose apps are cloned from."""

from app.admin import base_template  # noqa: F401 - its routes join the blueprint
from app.admin.routes import bp

__all__ = ["bp"]

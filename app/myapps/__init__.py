"""My apps: the apps people deployed, each with its progress, outputs and guest; updates."""

from app.myapps import logs, schedule, update  # noqa: F401 - their routes join the blueprint
from app.myapps.routes import bp

__all__ = ["bp"]

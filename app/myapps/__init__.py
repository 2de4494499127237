"""My apps: the apps people deployed, each with its progress, outputs and guest; updates."""

from app.myapps import update  # noqa: F401 - its route joins the blueprint
from app.myapps.routes import bp

__all__ = ["bp"]

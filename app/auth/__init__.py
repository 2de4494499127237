"""Logging in and out, and changing one's own password."""

from app.auth import two_factor  # noqa: F401 - its views join bp
from app.auth.routes import bp

__all__ = ["bp"]

"""Logging in and out, and changing one's own password."""

from app.auth import sso, two_factor  # noqa: F401 - their views join bp
from app.auth.routes import bp

__all__ = ["bp"]

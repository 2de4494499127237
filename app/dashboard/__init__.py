"""The cluster dashboard and node pages."""

from app.dashboard.routes import bp

__all__ = ["bp"]

"""The audit log page."""

from app.audit.routes import bp

__all__ = ["bp"]

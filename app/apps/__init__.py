"""The app catalog: browse the apps the portal can deploy."""

from app.apps.routes import bp

__all__ = ["bp"]

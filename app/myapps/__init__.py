"""My apps: the apps people deployed, each with its progress, outputs and guest."""

from app.myapps.routes import bp

__all__ = ["bp"]

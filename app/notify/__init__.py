"""Notifications: a user's Apprise targets on their account page (app.services.notifications
sends)."""

from app.notify.routes import bp

__all__ = ["bp"]

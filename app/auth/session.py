"""Who is logged in: Flask-Login's user loader, safe redirects, and `admin_required`."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from flask_login import LoginManager, current_user, login_required

from app.services.users import user_of_session
from app.validation import has_control_characters


def configure_login_manager(manager: LoginManager) -> None:
    """Send anonymous users to the login page and load users by id."""
    manager.login_view = "auth.login"
    manager.login_message = "Please log in to see this page."
    manager.login_message_category = "info"

    manager.user_loader(user_of_session)


def safe_next(target: str | None, default: str) -> str:
    """target when it is a local path such as `/nodes/pve1?x=1`, default otherwise.

    No scheme, host, `//`, backslash or control character (a newline would split the
    Location header) gets through.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if has_control_characters(target):
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


def admin_required(view):
    """Login redirect for anonymous users, 403 for logged-in non-admins."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403, description="This page is for administrators only.")
        return view(*args, **kwargs)

    return wrapped

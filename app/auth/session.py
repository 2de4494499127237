"""Who is logged in: Flask-Login's user loader, safe redirects, and `admin_required`."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from flask_login import LoginManager, current_user, login_required

from app.extensions import db
from app.models import User
from app.validation import MAX_ID, has_control_characters


def configure_login_manager(manager: LoginManager) -> None:
    """Send anonymous users to the login page and load users by id."""
    manager.login_view = "auth.login"
    manager.login_message = "Please log in to see this page."
    manager.login_message_category = "info"

    manager.user_loader(user_of_session)


def user_of_session(session_id: str) -> User | None:
    """The user of a live session, or None once it has ended.

    The session holds User.get_id(), `<id>:<session_version>`: a session whose version is not
    the user's current one has ended, as has any session of a disabled user."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()) or int(user_id) > MAX_ID:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user


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

"""Who is logged in: Flask-Login's loaders (a session's user on pages, a token's user on the
API), safe redirects, and `admin_required`."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, g, request
from flask_login import LoginManager, current_user, login_required

from app.errors import is_api_request
from app.models import User
from app.services.access import tokens
from app.services.users import user_of_session
from app.validation import has_control_characters


def configure_login_manager(manager: LoginManager) -> None:
    """Send anonymous users to the login page; load a session's user on pages and a bearer
    token's on the API (which ignores the session cookie: no CSRF surface there)."""
    manager.login_view = "auth.login"
    manager.login_message = "Please log in to see this page."
    manager.login_message_category = "info"

    manager.user_loader(_user_of_session)
    manager.request_loader(_user_of_token)


def _user_of_session(session_id: str) -> User | None:
    return None if is_api_request() else user_of_session(session_id)


def _user_of_token(_request) -> User | None:
    """The user of the API request's `Authorization: Bearer` token (kept in g.api_token), or
    None with the reason in g.token_refused."""
    if not is_api_request():
        return None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        g.token_refused = "Send a personal access token: Authorization: Bearer <token>."
        return None
    token, g.token_refused = tokens.check(secret.strip())
    g.api_token = token
    return token.user if token else None


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

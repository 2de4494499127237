"""Accounts: logging in, creating users, roles, enabling and disabling, passwords, and whether
a session is still live."""

from __future__ import annotations

import secrets
from functools import cache

from sqlalchemy import func, select

from app import passwords
from app.exceptions import AppServiceError, NotFoundError
from app.extensions import db
from app.models import ROLES, User, password_hash_method, utcnow
from app.services import audit
from app.services.access import tokens
from app.validation import MAX_ID


@cache
def _dummy_hash(method: str) -> str:
    """A hash to check against when the user is unknown, so both failures take the same time."""
    return passwords.make(secrets.token_hex(16), method)


def find_by_username(username: str) -> User | None:
    """The user with this name (case-insensitive), or None."""
    return db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def authenticate(username: str, password: str) -> User:
    """The user for these credentials; AppServiceError otherwise.

    Unknown user and wrong password get the same message, so names cannot be probed.
    """
    user = find_by_username(username.strip())
    if user is None:
        passwords.matches(_dummy_hash(password_hash_method()), password)
        raise AppServiceError("Invalid username or password.", http_status=401)
    if not user.check_password(password):
        raise AppServiceError("Invalid username or password.", http_status=401)
    if not user.active:
        raise AppServiceError(
            "This account is disabled. Ask an administrator to enable it.", http_status=403
        )
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def list_users() -> list[User]:
    """All users, by name."""
    return list(db.session.scalars(select(User).order_by(User.username)))


def create_user(
    username: str,
    password: str,
    role: str = "user",
    email: str | None = None,
    acting: User | str | None = None,
) -> User:
    """Add a user; refuses a taken name or an unknown role. An acting admin (or shell) is
    audited."""
    username = username.strip()
    if role not in ROLES:
        raise AppServiceError(f"Role must be one of: {', '.join(ROLES)}.")
    if not username:
        raise AppServiceError("A username is required.")
    if find_by_username(username) is not None:
        raise AppServiceError(f"The username {username!r} is already taken.", http_status=409)
    user = User(username=username, email=(email or "").strip() or None, role=role, active=True)
    user.set_password(password)
    db.session.add(user)
    if acting is not None:
        audit.record(acting, "create-user", f"user/{username}", "done", f"role {role}")
    db.session.commit()
    return user


def get_user(user_id: int) -> User:
    """The user with this id; NotFoundError otherwise."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFoundError("There is no such user.")
    return user


def _active_admins() -> int:
    query = select(func.count()).select_from(User).where(User.role == "admin", User.active)
    return db.session.scalar(query) or 0


def set_role(user: User, role: str, acting: User | str) -> None:
    """Change a user's role; the last active admin cannot stop being one."""
    if role not in ROLES:
        raise AppServiceError(f"Role must be one of: {', '.join(ROLES)}.")
    if user.role == "admin" and role != "admin" and user.active and _active_admins() <= 1:
        raise AppServiceError("The portal needs at least one active admin.", http_status=409)
    if isinstance(acting, User) and user.id == acting.id and role != "admin":
        raise AppServiceError("You cannot remove your own admin role.", http_status=409)
    audit.record(acting, "set-role", f"user/{user.username}", "done", f"{user.role} → {role}")
    if user.role != role:
        user.role = role
        user.end_sessions()
    db.session.commit()


def set_active(user: User, active: bool, acting: User | str) -> None:
    """Enable or disable a user; nobody disables themselves or the last active admin."""
    if not active:
        if isinstance(acting, User) and user.id == acting.id:
            raise AppServiceError("You cannot disable your own account.", http_status=409)
        if user.role == "admin" and user.active and _active_admins() <= 1:
            raise AppServiceError("The portal needs at least one active admin.", http_status=409)
    if not active:  # enabling again later brings neither old sessions nor tokens back
        user.end_sessions()
        tokens.revoke_all(user)
    user.active = active
    action = "enable-user" if active else "disable-user"
    audit.record(acting, action, f"user/{user.username}", "done")
    db.session.commit()


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one (a wrong one is audited as refused)."""
    target = f"user/{user.username}"
    if not user.check_password(current):
        audit.record(user, "change-password", target, "refused", "wrong current password")
        db.session.commit()
        raise AppServiceError("Your current password is not correct.")
    audit.record(user, "change-password", target, "done")
    set_password(user, new)


def reset_password(user: User, new: str) -> None:
    """An admin's new password for user: their sessions end, and their API tokens too."""
    tokens.revoke_all(user)
    set_password(user, new)


def set_password(user: User, new: str) -> None:
    """Set a new password and end every session of the user (the caller may log in again)."""
    user.set_password(new)
    user.end_sessions()
    db.session.commit()


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

"""People and what they may own: users, their quotas, the guests given to them."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import passwords
from app.extensions import Model
from app.models.base import utcnow

ROLES = ("admin", "user")
USERNAME_MAX = 64
EMAIL_MAX = 254


def password_hash_method() -> str:
    """How new passwords are hashed: Argon2id (app/passwords.py), unless the app's
    PASSWORD_HASH_METHOD names a werkzeug method (the tests use a fast one)."""
    return current_app.config.get("PASSWORD_HASH_METHOD") or passwords.ARGON2ID


class User(UserMixin, Model):
    """A person who logs into the portal: an `admin` or a `user`."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True, index=True)
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="user")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # An admin who wants every user's failures too (app.services.notifications).
    notify_all_failures: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Two-factor sign-in (app.services.access.two_factor): the TOTP key, sealed; when it was
    # turned on (None: off); the last time step a code was taken for (no code works twice).
    totp_sealed: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Single sign-on: the OpenID provider and its subject this account is linked to.
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    # Part of every session's id: raising it ends every session the user has (logout, new
    # password, disabled, role changed).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses to log in inactive users
        return self.active

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session: `<id>:<session_version>`."""
        return f"{self.id}:{self.session_version}"

    def end_sessions(self) -> None:
        """End every session of this user at its next request (the caller commits)."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def set_password(self, password: str) -> None:
        """Store a hash of password, never the password itself (`password_hash_method`)."""
        self.password_hash = passwords.make(password, password_hash_method())

    def check_password(self, password: str) -> bool:
        """True when password matches the stored hash. A hash made the old way (werkzeug's
        scrypt) is replaced by one made the current way while the password is at hand; the
        caller commits."""
        if not passwords.matches(self.password_hash, password):
            return False
        if passwords.outdated(self.password_hash, password_hash_method()):
            self.set_password(password)
        return True

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"


class RecoveryCode(Model):
    """One of a user's two-factor recovery codes: its SHA-256 only; each works once."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Quota(Model):
    """What one user may own at most (None: no limit); admins have none (app.services.quotas)."""

    __tablename__ = "quotas"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    guests: Mapped[int | None] = mapped_column(Integer)
    cores: Mapped[int | None] = mapped_column(Integer)
    memory: Mapped[int | None] = mapped_column(Integer)  # MiB
    disk: Mapped[int | None] = mapped_column(Integer)  # GiB


GUEST_NAME_MAX = 128


class GuestAssignment(Model):
    """A guest given to a user; admins see every guest anyway.

    PVE reuses a deleted guest's VMID, so the assignment also names the guest's type and name:
    a different guest under the same VMID does not match it (app.services.ownership).
    """

    __tablename__ = "guest_assignments"

    vmid: Mapped[int] = mapped_column(primary_key=True)
    guest_type: Mapped[str | None] = mapped_column(String(8))
    guest_name: Mapped[str | None] = mapped_column(String(GUEST_NAME_MAX))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship()

"""Single sign-on with an OpenID provider: the account of a signed-in subject, made on its
first sign-in and linked by the provider's issuer and subject (never by a name or an e-mail,
which another account could share). Its role follows the provider at each sign-in: admin when
the OIDC_ADMIN_CLAIM claim holds (or is) OIDC_ADMIN_VALUE.
"""

from __future__ import annotations

import re
import secrets

from flask import current_app
from sqlalchemy import select

from app.exceptions import AppServiceError
from app.extensions import db
from app.models import EMAIL_MAX, USERNAME_MAX, User, utcnow
from app.services import audit
from app.services.users import find_by_username

NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._@-]+")


def configured() -> bool:
    config = current_app.config
    return bool(config["OIDC_ISSUER"] and config["OIDC_CLIENT_ID"])


def account_for(claims: dict) -> User:
    """The portal account of the provider's subject in claims (an ID token's, checked by
    the caller), made if new; its role set from the claims. AppServiceError for a disabled
    account or claims without a subject."""
    issuer, subject = current_app.config["OIDC_ISSUER"], str(claims.get("sub") or "")
    if not subject:
        raise AppServiceError("The provider sent no subject (sub): nobody to sign in.")
    query = select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
    user = db.session.scalar(query)
    role = "admin" if _is_admin(claims) else "user"
    if user is None:
        user = User(
            username=_free_name(claims), email=_email(claims), role=role, active=True,
            oidc_issuer=issuer, oidc_subject=subject[:255],
        )  # fmt: skip
        user.set_password(secrets.token_urlsafe(32))  # nobody knows it: no password sign-in
        db.session.add(user)
        audit.record(user.username, "create-user", f"user/{user.username}", "done",
                     f"role {role}, by single sign-on")  # fmt: skip
    elif not user.active:
        raise AppServiceError(
            "This account is disabled. Ask an administrator to enable it.", http_status=403
        )
    elif user.role != role:
        audit.record(user.username, "set-role", f"user/{user.username}", "done",
                     f"{user.role} → {role}, by single sign-on")  # fmt: skip
        user.role = role
        user.end_sessions()
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def _is_admin(claims: dict) -> bool:
    wanted = current_app.config["OIDC_ADMIN_VALUE"]
    found = claims.get(current_app.config["OIDC_ADMIN_CLAIM"])
    if not wanted or found is None:
        return False
    values = found if isinstance(found, list) else [found]
    return wanted in [str(v) for v in values]


def _free_name(claims: dict) -> str:
    """preferred_username (or the e-mail, or the subject), made a valid portal name; with a
    number after it when a local account has that name already."""
    wanted = str(claims.get("preferred_username") or claims.get("email") or claims["sub"])
    base = NAME_CHARACTERS.sub("-", wanted).strip("-")[: USERNAME_MAX - 4] or "sso-user"
    name, number = base, 1
    while find_by_username(name) is not None:
        number += 1
        name = f"{base}-{number}"
    return name


def _email(claims: dict) -> str | None:
    email = str(claims.get("email") or "")
    return email[:EMAIL_MAX] if "@" in email else None

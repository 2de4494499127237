"""Two-factor sign-in with TOTP (RFC 6238, pyotp): turned on from the account page with a QR
code (an SVG drawn here, segno: no outside service) and a code that confirms it; ten recovery
codes, each usable once, kept as digests; a code is asked for after the password. No code works
twice (the last time step used is kept). Turning it off takes the password and a code; an admin
can reset it for someone locked out (audited).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from sqlalchemy import delete, select

from app.exceptions import AppServiceError
from app.extensions import db
from app.models import RecoveryCode, User, utcnow
from app.services import audit
from app.services.access import sealing

ISSUER = "Proxmox portal"
RECOVERY_CODES = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to mix up


PURPOSE = "portal totp keys"


def new_key() -> str:
    """A new TOTP key (base32), sealed: what the enrolment page keeps until it is confirmed."""
    import pyotp

    return sealing.seal(PURPOSE, pyotp.random_base32())


def key_of(sealed: str) -> str:
    """The TOTP key in clear (AppServiceError once SECRET_KEY has changed)."""
    try:
        return sealing.unseal(PURPOSE, sealed)
    except sealing.Unreadable:
        raise AppServiceError(
            "The two-factor key cannot be read: SECRET_KEY changed. An admin can reset it."
        ) from None


def enrolment(user: User, sealed: str) -> tuple[str, str]:
    """(the key to type in, the QR code as inline SVG) for an authenticator app."""
    import pyotp
    import segno  # drawing a QR code is rare: kept out of every worker's memory until then

    key = key_of(sealed)
    uri = pyotp.TOTP(key).provisioning_uri(name=user.username, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4, svgclass="qr-code", lineclass=None)
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4)), svg


def turn_on(user: User, sealed: str, code: str) -> list[str]:
    """Turn two-factor sign-in on once code matches the new key; the recovery codes (to be
    shown once). AppServiceError for a wrong code."""
    if user.has_two_factor:
        raise AppServiceError("Two-factor sign-in is on already.")
    step = _matching_step(key_of(sealed), code, None)
    if step is None:
        raise AppServiceError("That code is not right: check your device's clock and try again.")
    user.totp_sealed, user.totp_enabled_at, user.totp_last_step = sealed, utcnow(), step
    codes = _new_recovery_codes(user)
    audit.record(user, "two-factor", f"user/{user.username}", "done", "turned on")
    db.session.commit()
    return codes


def check(user: User, code: str) -> bool:
    """True when code is the user's current TOTP code (not used before) or an unused recovery
    code (then used up); the caller commits."""
    code = code.strip().replace(" ", "").lower()
    if code.isascii() and code.isdigit() and user.totp_sealed:
        step = _matching_step(key_of(user.totp_sealed), code, user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            return True
        return False
    digest = _digest(code.replace("-", ""))
    query = select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.digest == digest,
        RecoveryCode.used_at.is_(None),
    )  # fmt: skip
    found = db.session.scalar(query)
    if found is None:
        return False
    found.used_at = utcnow()
    audit.record(user, "two-factor", f"user/{user.username}", "done", "recovery code used")
    return True


def recovery_codes_left(user: User) -> int:
    query = select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
    )
    return len(db.session.scalars(query).all())


def turn_off(user: User, password: str, code: str) -> None:
    """Turn two-factor sign-in off, with the password and a code; AppServiceError if either is
    wrong (audited as refused)."""
    if not user.check_password(password) or not check(user, code):
        audit.record(user, "two-factor", f"user/{user.username}", "refused", "turning off")
        db.session.commit()
        raise AppServiceError("The password or the code is not right.")
    _clear(user)
    audit.record(user, "two-factor", f"user/{user.username}", "done", "turned off")
    db.session.commit()


def reset(acting: User | str, user: User) -> None:
    """An admin's reset for someone locked out: off, their recovery codes gone (audited)."""
    _clear(user)
    audit.record(acting, "two-factor-reset", f"user/{user.username}", "done")
    db.session.commit()


def _clear(user: User) -> None:
    user.totp_sealed = user.totp_enabled_at = user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _matching_step(key: str, code: str, last_step: int | None) -> int | None:
    """The time step (now, or one either side for clock drift) whose code is code, if it is
    later than last_step."""
    import pyotp

    code = code.strip().replace(" ", "")
    totp, now = pyotp.TOTP(key), int(time.time()) // 30
    for step in (now - 1, now, now + 1):
        fresh = last_step is None or step > last_step
        if fresh and hmac.compare_digest(totp.at(step * 30).encode(), code.encode()):
            return step
    return None


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, digest=_digest(raw)))
    return codes


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()

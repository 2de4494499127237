"""Password hashes: Argon2id for new ones.

Argon2id with 7 MiB and 5 passes is one of the settings OWASP's Password Storage Cheat Sheet
lists as equally strong (it ranks Argon2id first), the one that needs least memory. werkzeug's
default, scrypt with N=2^15, takes 32 MiB for every password check: a gunicorn worker's peak
memory was set by its logins, and sixteen at once in one worker would take 512 MiB. Hashes
made before (werkzeug's scrypt or pbkdf2) still verify, and are replaced at the user's next
login (`outdated`).
"""

from __future__ import annotations

from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

ARGON2ID = "argon2id"
_ARGON2_PREFIX = "$argon2id$"


@cache
def _argon2():
    from argon2 import PasswordHasher, Type  # the web worker loads it at its first login

    return PasswordHasher(time_cost=5, memory_cost=7 * 1024, parallelism=1, type=Type.ID)


def make(password: str, method: str = ARGON2ID) -> str:
    """A hash of password: Argon2id, or a werkzeug method (e.g. a fast pbkdf2 in tests)."""
    if method == ARGON2ID:
        return _argon2().hash(password)
    return generate_password_hash(password, method=method)


def matches(stored: str, password: str) -> bool:
    """True when password is the one stored was made from, whichever way it was made."""
    if not stored.startswith(_ARGON2_PREFIX):
        return check_password_hash(stored, password)
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _argon2().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def outdated(stored: str, method: str = ARGON2ID) -> bool:
    """True when stored was made another way (or with other costs) than method makes now."""
    if method != ARGON2ID:
        return False  # a werkzeug method (tests): nothing to bring up to date
    return not stored.startswith(_ARGON2_PREFIX) or _argon2().check_needs_rehash(stored)

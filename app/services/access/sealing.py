"""Secrets the portal must read back later (deploy secrets, notification URLs, TOTP keys),
encrypted at rest with a key derived from SECRET_KEY (Fernet: AES with an HMAC), one key per
purpose. cryptography (6 MB) loads at the first seal or unseal, not in every worker."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from cryptography.fernet import Fernet


class Unreadable(Exception):
    """A sealed value made with another SECRET_KEY (or not sealed by the portal at all)."""


def seal(purpose: str, text: str) -> str:
    """text, encrypted with the key of purpose (e.g. "portal deploy secrets")."""
    return _fernet(purpose).encrypt(text.encode()).decode()


def unseal(purpose: str, sealed: str) -> str:
    """What seal(purpose, ...) was given; Unreadable when this SECRET_KEY cannot open it."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(purpose).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise Unreadable from None


def _fernet(purpose: str) -> Fernet:
    from cryptography.fernet import Fernet

    secret = str(current_app.config["SECRET_KEY"]).encode()
    key = hashlib.sha256(purpose.encode() + b"\0" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(key))

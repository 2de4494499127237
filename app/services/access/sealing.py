"""Secrets the portal must read back later (deploy secrets, notification URLs, TOTP keys),
encrypted at rest with a key derived from SECRET_KEY (Fernet: AES with an HMAC), one key per
purpose."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet
from flask import current_app


def fernet(purpose: str) -> Fernet:
    """The Fernet of one purpose (e.g. "portal deploy secrets")."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    key = hashlib.sha256(purpose.encode() + b"\0" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(key))

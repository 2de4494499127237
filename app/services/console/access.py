"""Who may open which console: the console page issues a short-lived, one-time token for one
guest and one session, which the websocket presents; a user has at most CONSOLES_PER_USER open
at once; each console opened and closed is recorded and audited with how long it lasted.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import ConsoleSession, User, utcnow
from app.proxmox import get_client
from app.proxmox import guests as pve_guests
from app.proxmox.cluster import Guest
from app.services import audit, locks
from app.services.users import user_of_session

TOKEN_SECONDS = 60


@dataclass(frozen=True)
class Grant:
    """What a valid token allows: this session's user, on this guest, this kind of console."""

    session_id: str  # User.get_id(): `<id>:<session_version>`
    node: str
    guest_type: str
    vmid: int
    kind: str
    nonce: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="console")


def consoles_of(guest_type: str, config: dict) -> list[str]:
    """The consoles a guest has: a VM its screen, and a terminal if it has a serial port
    (`serial0`, termproxy's default); a container its terminal."""
    if guest_type == "lxc":
        return ["terminal"]
    return ["screen", "terminal"] if "serial0" in config else ["screen"]


def cannot_open(user: User, guest: Guest, kind: str) -> str | None:
    """Why this console cannot open now (the page says so instead), or None.

    A VM's terminal is its serial port: without one Proxmox's termproxy has nothing to
    connect to, so the VM's config is read (one call) before offering it."""
    what = "console" if kind == "screen" else "terminal"
    if too_many := _over_the_limit(user):
        return too_many
    if guest.status != "running":
        return f"{guest.name} is {guest.status}: start it to open its {what}."
    if kind == "terminal" and guest.type == "qemu":
        config = pve_guests.config(get_client(), guest.node, "qemu", guest.vmid)
        if kind not in consoles_of("qemu", config):
            return (
                f"{guest.name} has no serial port, so it has no terminal: use its Console, or "
                f"add one in Proxmox (qm set {guest.vmid} --serial0 socket) and restart it."
            )
    return None


def issue_token(user: User, guest: Guest, kind: str) -> str:
    """A token the console page hands its websocket: good once, for TOKEN_SECONDS."""
    grant = [user.get_id(), guest.node, guest.type, guest.vmid, kind, secrets.token_hex(16)]
    return _serializer().dumps(grant)


def read_token(token: str) -> Grant | None:
    """The grant in a token, or None if it is forged, malformed or too old."""
    try:
        session_id, node, guest_type, vmid, kind, nonce = _serializer().loads(
            token, max_age=TOKEN_SECONDS
        )
    except (BadSignature, ValueError, TypeError):
        return None
    return Grant(str(session_id), str(node), str(guest_type), int(vmid), str(kind), str(nonce))


def used(grant: Grant) -> bool:
    """True if the grant's token has opened a console already."""
    taken = db.session.scalar(db.select(ConsoleSession.id).filter_by(nonce=grant.nonce))
    db.session.rollback()  # no read left open: on SQLite, writers wait for readers
    return taken is not None


def open_session(user: User, grant: Grant) -> tuple[ConsoleSession | None, str]:
    """Record the console as opened (and audit it), or say why it may not open: the token
    was used before, or the user has CONSOLES_PER_USER consoles open. Counted and written
    under locks.CONSOLES, so consoles opened at the same moment are counted too."""
    locks.hold(locks.CONSOLES)
    if too_many := _over_the_limit(user):
        db.session.rollback()
        return None, too_many
    target = audit.target_of(grant.guest_type, grant.vmid, grant.node)
    session = ConsoleSession(nonce=grant.nonce, user_id=user.id, target=target, kind=grant.kind)
    db.session.add(session)
    audit.record(user, "console", target, "started", f"{grant.kind} console opened")
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None, "This console link was used already: open the console again."
    return session, ""


def _over_the_limit(user: User) -> str | None:
    """The message when user has as many consoles open as allowed, else None. A console open
    longer than CONSOLE_MAX_SECONDS has ended (its worker may have been killed)."""
    limit = int(current_app.config["CONSOLES_PER_USER"])
    since = utcnow() - timedelta(seconds=float(current_app.config["CONSOLE_MAX_SECONDS"]))
    count = db.session.scalar(
        select(func.count()).where(
            ConsoleSession.user_id == user.id, ConsoleSession.closed_at.is_(None),
            ConsoleSession.opened_at > since,
        )
    ) or 0  # fmt: skip
    if count < limit:
        return None
    return (
        f"You have {count} consoles open, the most at once: close one (its tab or window), "
        "then open this one again."
    )


def close_session(user: User, session: ConsoleSession, reason: str) -> None:
    """Record the console as closed, with how long it was open and why (whatever happened
    to the session's last transaction)."""
    db.session.rollback()
    session.closed_at, session.close_reason = utcnow(), reason
    seconds = round(time.time() - session.opened_at.timestamp())
    detail = f"{session.kind} console closed after {seconds} s ({reason})"
    audit.record(user, "console", session.target, "done", detail)
    db.session.commit()


def still_signed_in(session_id: str) -> bool:
    """True while the session that opened the console has not ended."""
    db.session.rollback()  # a new transaction: the last one's snapshot may predate the logout
    signed_in = user_of_session(session_id) is not None
    db.session.rollback()  # and no read left open: on SQLite, writers wait for readers
    return signed_in

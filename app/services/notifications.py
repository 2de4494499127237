"""Notifications wherever people read them, through Apprise URLs (ntfy, Gotify, Discord, Slack,
Matrix, Telegram, e-mail, JSON webhooks ...).

A user's targets are Apprise URLs, which hold tokens: kept encrypted with a key derived from
SECRET_KEY (Fernet), shown masked, never logged. What happens to their apps is written to an
outbox (`emit`, in the same transaction as the event) and sent by the worker (`send_pending`,
after each job and every minute), a few tries each: never from a web request, and a target
that fails never fails a deploy. A target that keeps failing is marked on the account page.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import select

from app import observability
from app.exceptions import AppServiceError, NotFoundError
from app.extensions import db
from app.models import Notification, NotificationTarget, User, utcnow
from app.services.access import sealing

log = logging.getLogger(__name__)
# Apprise logs the URLs it sends to (tokens and all); its log must reach neither the worker's
# output nor Sentry (whose logging integration would make its errors events).
logging.getLogger("apprise").disabled = True
TRIES = 5  # sends of one message before it is given up
FAILING = 3  # failures in a row that mark a target as failing
FAILURES = ("deploy-failed", "clone-failed", "update-failed", "rolled-back", "backup-failed")
HOST = re.compile(r"^(localhost|[\w.-]+\.[a-z]{2,}|\d{1,3}(\.\d{1,3}){3})(:\d+)?$", re.I)


PURPOSE = "portal notification targets"


def masked(url: str) -> str:
    """A URL as the account page shows it: its kind and host, never its tokens."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/")[0].split("?")[0].rpartition("@")[2]
    return f"{scheme}://{host}/…" if HOST.match(host) else f"{scheme}://…"


def targets(user: User) -> list[NotificationTarget]:
    query = select(NotificationTarget).where(NotificationTarget.user_id == user.id)
    return list(db.session.scalars(query.order_by(NotificationTarget.id)))


def add_target(user: User, url: str) -> NotificationTarget:
    """Keep a new target for user; AppServiceError when Apprise does not take the URL."""
    import apprise  # here, not at import: web workers rarely need its 1 MB of plugins

    if not apprise.Apprise().add(url.strip()):
        raise AppServiceError(
            "Apprise does not know this URL: check its form on the Apprise wiki "
            "(for example ntfy://topic, json://host/path, mailto://user:pass@host)."
        )
    target = NotificationTarget(
        user_id=user.id, sealed_url=sealing.seal(PURPOSE, url.strip()),
        shown=masked(url.strip())[:200], failures=0,
    )  # fmt: skip
    db.session.add(target)
    db.session.commit()
    return target


def own_target(user: User, target_id: int) -> NotificationTarget:
    target = db.session.get(NotificationTarget, target_id)
    if target is None or target.user_id != user.id:
        raise NotFoundError("There is no such notification target of yours.")
    return target


def remove_target(user: User, target_id: int) -> None:
    db.session.delete(own_target(user, target_id))
    db.session.commit()


def emit(user: User | None, event: str, title: str, body: str, only: int | None = None) -> int:
    """Put a message for each of user's targets (or only that one) in the outbox, and for a
    failure each target of the admins who want every failure; the caller commits. How many."""
    if user is None:
        return 0
    chosen = [t for t in targets(user) if only is None or t.id == only]
    if event in FAILURES:
        admins = select(User).where(User.notify_all_failures, User.id != user.id)
        chosen += [t for admin in db.session.scalars(admins) for t in targets(admin)]
    for target in chosen:
        db.session.add(Notification(
            target_id=target.id, event=event, title=title[:200], body=body, attempts=0,
            given_up=False,
        ))  # fmt: skip
    return len(chosen)


TITLES = {
    "deployed": "{name} is running", "cloned": "{name}, a copy, is running",
    "updated": "{name} was updated", "deploy-failed": "{name}: the deploy failed",
    "clone-failed": "{name}: the clone failed", "rolled-back": "{name}: the update was rolled back",
    "update-failed": "{name}: the update failed", "test": "A test from the Proxmox portal",
    "backup-failed": "{name}: a scheduled backup failed",
}  # fmt: skip


def about_app(app, event: str, detail: str) -> int:
    """The outbox message of an event of an app (App), to its owner (the caller commits)."""
    title = TITLES[event].format(name=app.name)
    body = f"{detail}\n\n{app.catalog_id} {app.version or ''} · app {app.id} on {app.node}"
    return emit(app.user, event, title, body.replace("  ", " "))


def send_pending(limit: int = 100) -> int:
    """Send what the outbox holds (the worker); how many went. A failed send is tried again
    on the next round, TRIES times in all."""
    query = select(Notification).where(
        Notification.sent_at.is_(None), Notification.given_up.is_(False)
    )  # fmt: skip
    sent = 0
    for message in db.session.scalars(query.order_by(Notification.id).limit(limit)).all():
        target = message.target
        message.attempts += 1
        error = _send(target, message)
        if error is None:
            message.sent_at, target.failures, target.last_sent_at = utcnow(), 0, utcnow()
            target.last_error, sent = None, sent + 1
        else:
            target.failures, target.last_error = target.failures + 1, error
            message.given_up = message.attempts >= TRIES
            log.warning("Notification %s to target %s failed: %s", message.id, target.id, error)
        db.session.commit()
    return sent


def _send(target: NotificationTarget, message: Notification) -> str | None:
    """None when Apprise delivered it; else what went wrong, in words without the URL."""
    try:
        url = sealing.unseal(PURPOSE, target.sealed_url)
    except sealing.Unreadable:
        return "its URL cannot be read: SECRET_KEY changed since it was added (add it again)"
    import apprise

    notifier = apprise.Apprise()
    notifier.add(url)
    with observability.hiding([url]):
        try:
            if notifier.notify(body=message.body, title=message.title):
                return None
        except Exception as error:  # noqa: BLE001 - a plugin's own failure; the URL stays out
            return f"{type(error).__name__} while sending to {target.shown}"
    return f"{target.shown} did not take the message"

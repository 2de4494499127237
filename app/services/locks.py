"""Named locks that every gunicorn worker and every portal instance shares, through the
database they all use: a check and the row it allows are written as one step.

`hold(name)` updates the lock's row, so the transaction holds it until it commits or rolls
back: PostgreSQL locks the row (others wanting it wait, everyone else goes on), SQLite takes
its write lock (writers wait, within the driver's busy timeout). Keep what runs under a lock
short and free of Proxmox calls: on SQLite every writer waits for it.
"""

from __future__ import annotations

from sqlalchemy import update

from app.extensions import db
from app.models import Lock, utcnow

# Starting work that makes a guest (deploy, clone, restore as new) and reserving its VMID.
# Each lock's row is made by the migration that introduces it.
STARTS = "starts"
# Opening a console (a user has at most CONSOLES_PER_USER open).
CONSOLES = "consoles"


def hold(name: str) -> None:
    """Take the lock `name` for the rest of the current transaction.

    Whatever the session has not committed is committed first: the lock's statement must
    open the transaction, so that what is read under it is read after it was taken.
    """
    db.session.commit()
    statement = update(Lock).where(Lock.name == name).values(taken_at=utcnow())
    if not db.session.execute(statement).rowcount:  # type: ignore[attr-defined]  # a CursorResult
        raise RuntimeError(f"There is no lock {name!r}: run `flask --app wsgi db upgrade`.")

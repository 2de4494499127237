"""Huey without the queue backends the portal does not use.

Huey's storage module imports every client it can find when it is loaded: Redis's and
PostgreSQL's (psycopg). The portal queues in SQLite unless JOBS_URL is `redis://`, and never in
PostgreSQL, yet every process (each gunicorn worker included, through Sentry's Huey
integration) paid for both: about 10 MB. This loads Huey once with those imports failing, as if
they were not installed, then lets everything else import them as usual (SQLAlchemy's
psycopg for a PostgreSQL database, for instance).
"""

from __future__ import annotations

import sys

from app import config as settings


def load_huey() -> None:
    """Import huey (once, before anything else does) without the backends JOBS_URL does not
    name."""
    if "huey" in sys.modules:
        return
    unused = ["psycopg"]
    if not settings.jobs_url().startswith("redis://"):
        unused.append("redis")
    hidden = [name for name in unused if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` fails: skipped
    try:
        import huey  # noqa: F401
    finally:
        for name in hidden:
            del sys.modules[name]


load_huey()

"""gunicorn settings: `gunicorn -c gunicorn.conf.py wsgi:app`.

Binds to loopback by default: put a reverse proxy (nginx, Caddy) in front and set
PROXY_COUNT=1 so the portal sees the client's address.
"""

import os
import re

from gunicorn.glogging import Logger

from app.memory import freeze_startup_objects, give_back_large_blocks

give_back_large_blocks()  # in the master, before the app is loaded: the workers inherit it

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '5000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Threads, not one request per process: an open console holds its thread (a websocket) for as
# long as it lasts, while the worker's other threads serve pages (flask-sock needs gthread).
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# Threaded workers keep connections alive between requests. gunicorn's default (2 s) makes a
# client that reuses a connection just as the worker drops it see a reset: wait longer than
# a browser's pause between clicks.
keepalive = 75
# A Proxmox call may take PROXMOX_TIMEOUT seconds; leave room above it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 10
# The app is built once in the master; the Proxmox client connects lazily in each worker, and
# the Sentry SDK starts a sending thread in each worker on its first event (every worker reports).
preload_app = True
accesslog = "-"
errorlog = "-"


class AccessLogWithoutTokens(Logger):
    """The access log, without the one-time token a console's websocket carries in its query
    string (`?token=...`): a log is read by more people than the console is for."""

    TOKEN = re.compile(r"(\btoken=)[^&\s]+")

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "q"):
            atoms[key] = self.TOKEN.sub(r"\1[hidden]", atoms[key] or "")
        return atoms


logger_class = AccessLogWithoutTokens
# Several portals (the demo, end-to-end tests) may run side by side; the default
# control socket path (~/.gunicorn/gunicorn.ctl) would be shared between them.
control_socket_disable = True


def when_ready(server):
    """The app is loaded (preload_app) and no worker is forked yet."""
    freeze_startup_objects()


def worker_exit(server, worker):
    """Send queued Sentry events before a worker goes away (they are lost otherwise)."""
    from app.observability import flush

    flush()

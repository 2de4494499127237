"""The real portal plus routes that fail in each way, for gunicorn in the Bugsink test.

    gunicorn -c gunicorn.conf.py tests.e2e.failing_app:app

Every failure goes through the portal's own error handlers and Sentry setup; only the
routes that provoke them are added here (the portal has no page that fails on purpose).
"""

import os
import time

from flask import abort, current_app, request
from flask_login import login_required

from app import create_app
from app.exceptions import AppServiceError

app = create_app()


@app.get("/e2e/proxmox")
@login_required
def proxmox_refuses():
    """A real call that PVE refuses: a VM that does not exist on a real node."""
    node = request.args.get("node", "pve1")
    return current_app.extensions["proxmox"].get(f"nodes/{node}/qemu/999999/status/current")


@app.get("/e2e/service")
@login_required
def service_refuses():
    raise AppServiceError("The guest quota is used up.", http_status=409, details={"quota": 3})


@app.get("/e2e/unavailable")
@login_required
def unavailable():
    abort(503)


@app.after_request
def name_the_worker(response):
    """Say which gunicorn worker answered, so the test can reach every worker."""
    response.headers["X-Worker-Pid"] = str(os.getpid())
    return response


@app.get("/e2e/unhandled")
def unhandled():
    """Fails after `delay` seconds, so that concurrent requests can land on different workers."""
    time.sleep(float(request.args.get("delay", "0")))
    error = RuntimeError("e2e: unexpected failure")
    error.worker_pid = os.getpid()
    raise error

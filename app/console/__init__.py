"""Consoles in the browser: a VM's screen (noVNC) and a serial terminal (xterm.js), relayed
through the portal's own websocket."""

from flask import Blueprint

bp = Blueprint("console", __name__)

from app.console import routes  # noqa: E402,F401 - registers the views on bp

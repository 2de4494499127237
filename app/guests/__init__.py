"""Guest pages: status, config, charts, lifecycle, snapshots, backups and ownership."""

from flask import Blueprint

bp = Blueprint("guests", __name__)

from app.guests import backups, config, routes  # noqa: E402,F401 - registers the views on bp

"""Guest pages: status, config, charts, lifecycle, snapshots, backups and ownership."""

from app.guests import backups, config  # noqa: F401 - their views join bp
from app.guests.routes import bp

__all__ = ["bp"]

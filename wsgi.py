"""WSGI entry point: `gunicorn -c gunicorn.conf.py wsgi:app` or `flask --app wsgi ...`."""

import sys

from app import create_app
from app.exceptions import ConfigurationError

try:
    app = create_app()
except ConfigurationError as error:  # e.g. a catalog file that does not validate
    sys.exit(f"The portal cannot start: {error}")

"""The app catalog: browse the apps the portal can deploy."""

from flask import Blueprint

bp = Blueprint("apps", __name__)

from app.apps import routes  # noqa: E402,F401 - registers the views on bp

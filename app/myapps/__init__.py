"""My apps: the apps people deployed, each with its progress, outputs and guest."""

from flask import Blueprint

bp = Blueprint("myapps", __name__)

from app.myapps import routes  # noqa: E402,F401 - registers the views on bp

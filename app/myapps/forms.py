"""The clone form on an app's page."""

from wtforms import SelectField

from app.apps.forms import app_name_field
from app.guests.forms import ActionForm


class CloneForm(ActionForm):
    name = app_name_field("Name of the copy")
    node = SelectField("Node")

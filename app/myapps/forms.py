"""The clone form on an app's page."""

from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from app.apps.forms import DNS_LABEL, NAME_MESSAGE
from app.guests.forms import ActionForm
from app.models import APP_NAME_MAX


class CloneForm(ActionForm):
    name = StringField(
        "Name of the copy",
        validators=[
            DataRequired(),
            Length(max=APP_NAME_MAX, message=f"At most {APP_NAME_MAX} characters."),
            Regexp(DNS_LABEL, message=NAME_MESSAGE),
        ],
    )
    node = SelectField("Node")

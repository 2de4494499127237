"""Forms for managing users."""

from wtforms import HiddenField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import AnyOf, DataRequired, Email, Length, Optional, Regexp

from app.auth.forms import new_password_fields
from app.models import EMAIL_MAX, ROLES, USERNAME_MAX
from app.validation import PortalForm

ROLE_CHOICES = [SelectChoice(role, role.capitalize()) for role in ROLES]


class CreateUserForm(PortalForm):
    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            Length(max=USERNAME_MAX),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                message="Use letters, digits, dots, dashes and underscores; start with a "
                "letter or digit.",
            ),
        ],
    )
    email = StringField("Email (optional)", validators=[Optional(), Length(max=EMAIL_MAX), Email()])
    role = SelectField("Role", choices=ROLE_CHOICES, default="user")
    password, confirm = new_password_fields()
    submit = SubmitField("Create user")


class RoleForm(PortalForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    submit = SubmitField("Change role")


class ActiveForm(PortalForm):
    active = HiddenField(validators=[AnyOf(["0", "1"])])

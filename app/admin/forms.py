"""Forms for managing users."""

from wtforms import (
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import AnyOf, DataRequired, Email, Length, NumberRange, Optional, Regexp

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


def _limit(label: str) -> IntegerField:
    return IntegerField(label, validators=[Optional(), NumberRange(0, 2**31 - 1)])


class QuotaForm(PortalForm):
    """A user's limits; an empty field is no limit."""

    guests = _limit("Guests")
    cores = _limit("Cores in all")
    memory = _limit("Memory in all (MiB)")
    disk = _limit("Disk in all (GiB)")
    submit = SubmitField("Save quota")

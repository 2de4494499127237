"""Login and password forms."""

from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from app.models import USERNAME_MAX
from app.validation import PortalForm

PASSWORD_MIN = 8
PASSWORD_MAX = 256


class LoginForm(PortalForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=USERNAME_MAX)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    submit = SubmitField("Log in")


def new_password_fields():
    """The new password and its confirmation, shared by the password and user forms."""
    password = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
                message=f"Use at least {PASSWORD_MIN} characters (at most {PASSWORD_MAX}).",
            ),
        ],
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[
            DataRequired(),
            Length(max=PASSWORD_MAX),
            EqualTo("password", message="The passwords do not match."),
        ],
    )
    return password, confirm


class ChangePasswordForm(PortalForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=PASSWORD_MAX)]
    )
    password, confirm = new_password_fields()
    submit = SubmitField("Change password")


class CodeForm(PortalForm):
    code = StringField(
        "Code", validators=[DataRequired(), Length(max=32)],
        description="The 6 digits your authenticator app shows, or a recovery code.",
    )  # fmt: skip
    submit = SubmitField("Continue")


class TwoFactorOffForm(PortalForm):
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    code = StringField("Code", validators=[DataRequired(), Length(max=32)])
    submit = SubmitField("Turn two-factor sign-in off")

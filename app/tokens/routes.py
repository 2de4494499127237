"""API token pages: the list and the form that makes one, and revoking. A new token is shown
in the answer to the form, once, and never stored or sent anywhere else (not even a flash
message, which would ride in the session cookie)."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required
from wtforms import IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from app.exceptions import AppServiceError
from app.guests.forms import ActionForm
from app.models import TOKEN_NAME_MAX
from app.services.access import tokens
from app.validation import PortalForm

bp = Blueprint("tokens", __name__)


class TokenForm(PortalForm):
    name = StringField(
        "Name", validators=[DataRequired(), Length(max=TOKEN_NAME_MAX)],
        description="What it is for, e.g. ci or ansible.",
    )  # fmt: skip
    scope = SelectField(
        "Scope",
        choices=[
            SelectChoice("read", "read: look only"),
            SelectChoice("write", "write: act, as you can on the pages"),
        ],  # fmt: skip
        default="read",
    )
    days = IntegerField("Expires after (days)", validators=[InputRequired()])


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def index():
    """Your tokens and the form that makes one; an admin's page lists everyone's too."""
    form, status, made = TokenForm(), 200, None
    longest = tokens.longest_days()
    form.days.validators = [InputRequired(), NumberRange(1, longest)]
    if not form.is_submitted():
        form.days.data = tokens.default_days()
    elif form.validate():
        try:
            _, made = tokens.create(
                current_user, current_user, form.name.data, form.scope.data, form.days.data
            )
            form = TokenForm(formdata=None, days=tokens.default_days())
        except AppServiceError as refusal:
            form.form_errors.append(refusal.message)
            status = 400
    else:
        status = 400
    response = make_response(
        render_template(
            "tokens/index.html",
            form=form,
            made=made,
            mine=tokens.of_user(current_user),
            everyone=tokens.every_token() if current_user.is_admin else [],
            action=ActionForm(),
            longest=longest,
        ),  # fmt: skip
        status,
    )
    response.headers["Cache-Control"] = "no-store"  # a new token is on the page
    return response


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    """Revoke one of your tokens (an admin: anyone's)."""
    token = tokens.get_for(current_user, token_id)
    if ActionForm().validate():
        tokens.revoke(current_user, token)
        flash(f"Revoked the token {token.name} of {token.user.username}.", "success")
    else:
        flash("The form expired; please try again.", "error")
    return redirect(url_for("tokens.index"))

"""The account's notification targets: add one (an Apprise URL), send it a test (through the
worker), remove it; admins can also hear of every user's failures."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

from app import jobs
from app.exceptions import AppServiceError
from app.extensions import db
from app.guests.forms import ActionForm
from app.services import notifications
from app.validation import PortalForm

bp = Blueprint("notify", __name__)


class TargetForm(PortalForm):
    target_url = StringField(
        "Apprise URL", validators=[DataRequired(), Length(max=2000)],
        description="For example ntfy://my-topic, gotify://host/token, json://host:port/path, "
        "mailto://user:password@example.com. It is kept encrypted and shown masked.",
    )  # fmt: skip


class AllFailuresForm(ActionForm):
    all_failures = BooleanField("Tell me of every user's failed deploys, clones and updates")


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def index():
    """The targets, and the form that adds one."""
    form, status = TargetForm(), 200
    if form.is_submitted():
        status = 400
        if form.validate():
            try:
                target = notifications.add_target(current_user, form.target_url.data)
                flash(f"Added {target.shown}. Send it a test to see that it works.", "success")
                return redirect(url_for("notify.index"))
            except AppServiceError as refusal:
                form.target_url.errors = [*form.target_url.errors, refusal.message]
    everyone = AllFailuresForm(all_failures=current_user.notify_all_failures)
    page = render_template(
        "notify/index.html", form=form, everyone=everyone,
        targets=notifications.targets(current_user), failing=notifications.FAILING,
        action=ActionForm(),
    )  # fmt: skip
    return page, status


@bp.post("/account/notifications/<int:target_id>/test")
@login_required
def test(target_id: int):
    """A test message to one target, sent by the worker."""
    target = notifications.own_target(current_user, target_id)
    if ActionForm().validate():
        said = "If you read this, the portal can reach you here."
        notifications.emit(current_user, "test", notifications.TITLES["test"], said, target.id)
        db.session.commit()
        jobs.send_notifications()
        flash(f"A test is on its way to {target.shown}.", "success")
    return redirect(url_for("notify.index"))


@bp.post("/account/notifications/<int:target_id>/delete")
@login_required
def delete(target_id: int):
    """Remove one target (what was not sent to it yet goes too)."""
    notifications.own_target(current_user, target_id)
    if ActionForm().validate():
        notifications.remove_target(current_user, target_id)
        flash("Removed.", "success")
    return redirect(url_for("notify.index"))


@bp.post("/account/notifications/all-failures")
@login_required
def all_failures():
    """An admin's choice to hear of every user's failures."""
    form = AllFailuresForm()
    if current_user.is_admin and form.validate():
        current_user.notify_all_failures = form.all_failures.data
        db.session.commit()
        flash("Saved.", "success")
    return redirect(url_for("notify.index"))

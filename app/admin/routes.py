"""User administration views (admins only)."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from app.admin.forms import ActiveForm, CreateUserForm, QuotaForm, RoleForm
from app.auth.session import admin_required
from app.exceptions import AppServiceError
from app.guests.forms import ActionForm
from app.services import quotas, users
from app.services.access import two_factor

bp = Blueprint("admin", __name__)


@bp.route("/users")
@admin_required
def user_list():
    """Every account, with forms to change role and enable or disable it."""
    return render_template(
        "admin/users.html",
        users=users.list_users(),
        role_form=RoleForm(),
        active_form=ActiveForm(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def user_create():
    """Create an account."""
    form = CreateUserForm()
    if form.validate_on_submit():
        try:
            user = users.create_user(
                form.username.data,
                form.password.data,
                form.role.data,
                form.email.data,
                acting=current_user,
            )
        except AppServiceError as refusal:
            form.username.errors.append(refusal.message)
        else:
            flash(f"User {user.username} created.", "success")
            return redirect(url_for("admin.user_list"))
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@admin_required
def user_role(user_id: int):
    """Make a user an admin or a plain user."""
    user = users.get_user(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose a valid role.", "error")
    else:
        try:
            users.set_role(user, form.role.data, acting=current_user)
            flash(f"{user.username} is now {form.role.data}.", "success")
        except AppServiceError as refusal:
            flash(refusal.message, "error")
    return redirect(url_for("admin.user_list"))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@admin_required
def user_active(user_id: int):
    """Enable or disable a user."""
    user = users.get_user(user_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        flash("That request was not valid; nothing changed.", "error")
    else:
        active = form.active.data == "1"
        try:
            users.set_active(user, active, acting=current_user)
            flash(f"{user.username} is now {'enabled' if active else 'disabled'}.", "success")
        except AppServiceError as refusal:
            flash(refusal.message, "error")
    return redirect(url_for("admin.user_list"))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_show(user_id: int):
    """A user's page: their quota (what they may own at most) against what they own now."""
    user = users.get_user(user_id)
    form = QuotaForm(data=quotas.limits_of(user))
    if form.validate_on_submit():
        limits = {name: form[name].data for name in quotas.RESOURCES}
        quotas.set_limits(current_user, user, limits)
        flash(f"Quota of {user.username} saved.", "success")
        return redirect(url_for("admin.user_show", user_id=user.id))
    status = 400 if form.is_submitted() else 200
    usage = quotas.usage(user)
    page = render_template(
        "admin/user.html", user=user, form=form, usage=usage, action=ActionForm()
    )
    return page, status


@bp.post("/users/<int:user_id>/two-factor-reset")
@admin_required
def two_factor_reset(user_id: int):
    """Turn a locked-out user's two-factor sign-in off (audited); they can turn it on again."""
    user = users.get_user(user_id)
    if ActionForm().validate_on_submit():
        two_factor.reset(current_user, user)
        flash(f"Two-factor sign-in of {user.username} is off.", "success")
    else:
        flash("That request was not valid; nothing changed.", "error")
    return redirect(url_for("admin.user_show", user_id=user.id))

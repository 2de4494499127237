"""Login, logout and password change views."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp
from app.auth.forms import ChangePasswordForm, LoginForm
from app.auth.session import is_safe_next
from app.errors import AppServiceError
from app.extensions import limiter
from app.services import users

TOO_MANY = "Too many login attempts. Wait a minute, then try again."


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _username_key() -> str:
    return "login-user:" + request.form.get("username", "").strip().lower()[:64]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], error_message=TOO_MANY)
@limiter.limit(_login_limit, methods=["POST"], key_func=_username_key, error_message=TOO_MANY)
def login():
    """Show the login form; log in with valid credentials and go to a safe `next`."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = users.authenticate(form.username.data, form.password.data)
        except AppServiceError as refusal:
            form.form_errors.append(refusal.message)
        else:
            login_user(user)
            target = request.args.get("next")
            return redirect(target if is_safe_next(target) else url_for("dashboard.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out (a POST, so a link or image elsewhere cannot log anyone out)."""
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Every user can change their own password."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            users.change_password(current_user, form.current_password.data, form.password.data)
        except AppServiceError as refusal:
            form.current_password.errors.append(refusal.message)
        else:
            flash("Your password has been changed.", "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/password.html", form=form)

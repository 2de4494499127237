"""Login, logout and password change views."""

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from app.auth.forms import ChangePasswordForm, LoginForm
from app.auth.session import safe_next
from app.exceptions import AppServiceError
from app.extensions import db
from app.services import login_limits, users
from app.services.access import sso

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; log in with valid credentials and go to a safe `next`."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    passwords = current_app.config["PASSWORD_LOGIN"]
    if form.is_submitted() and not passwords:
        abort(403, description="Sign in with single sign-on: passwords are turned off here.")
    if form.validate_on_submit():
        login_limits.check_login(form.username.data)
        try:
            user = users.authenticate(form.username.data, form.password.data)
        except AppServiceError as refusal:
            login_limits.record_failed_login(form.username.data, refusal.message)
            form.form_errors.append(refusal.message)
        else:
            session.clear()  # nothing from before the login (its CSRF secret included) is kept
            if user.has_two_factor:  # the password was right: now the code (two_factor.py)
                pending = {"user": user.id, "next": request.args.get("next"), "at": time.time()}
                session["pending_login"] = pending
                return redirect(url_for("auth.login_code"))
            login_user(user)
            return redirect(safe_next(request.args.get("next"), url_for("dashboard.index")))
    sso_name = current_app.config["OIDC_NAME"] if sso.configured() else None
    return render_template("auth/login.html", form=form, passwords=passwords, sso_name=sso_name)


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out everywhere: every session of this user ends, copies of the cookie included.

    A POST, so a link or image elsewhere cannot log anyone out.
    """
    if current_user.is_authenticated:
        current_user.end_sessions()
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Every user can change their own password; their other sessions end, this one stays."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        login_limits.check_password_change(current_user)
        try:
            users.change_password(current_user, form.current_password.data, form.password.data)
        except AppServiceError as refusal:
            form.current_password.errors.append(refusal.message)
        else:
            login_user(current_user._get_current_object())  # the session under its new version
            flash("Your password has been changed.", "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/password.html", form=form)

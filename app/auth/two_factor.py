"""Two-factor sign-in: the account page that turns it on (QR code, a confirming code, the
recovery codes shown once) or off, the login's second step, and, with REQUIRE_2FA_FOR_ADMINS,
the rule that sends an admin without it to that page first."""

from __future__ import annotations

import time

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user

from app.auth.forms import CodeForm, TwoFactorOffForm
from app.auth.routes import bp
from app.auth.session import safe_next
from app.errors import is_api_request
from app.exceptions import AppServiceError
from app.extensions import db
from app.services import login_limits, users
from app.services.access import two_factor

PENDING_SECONDS = 300  # between the password and the code
OPEN_TO_ADMINS_WITHOUT = ("auth.two_factor_page", "auth.logout", "static", "health.healthz")


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_page():
    """Turn two-factor sign-in on (scan, then confirm with a code) or off."""
    user = current_user._get_current_object()
    if user.has_two_factor:
        return _turn_off(user)
    form, status = CodeForm(), 200
    sealed = session.get("totp_pending") or two_factor.new_key()
    session["totp_pending"] = sealed  # sealed: the session cookie is signed, not encrypted
    if form.validate_on_submit():
        try:
            codes = two_factor.turn_on(user, sealed, form.code.data)
        except AppServiceError as refusal:
            form.code.errors = [*form.code.errors, refusal.message]
            status = 400
        else:
            session.pop("totp_pending", None)
            return _no_store(render_template("auth/recovery_codes.html", codes=codes))
    elif form.is_submitted():
        status = 400
    key, svg = two_factor.enrolment(user, sealed)
    page = render_template("auth/two_factor.html", form=form, key=key, qr=svg)
    return _no_store(page), status


def _turn_off(user):
    form, status = TwoFactorOffForm(), 200
    if form.validate_on_submit():
        login_limits.check_password_change(user)
        try:
            two_factor.turn_off(user, form.password.data, form.code.data)
            flash("Two-factor sign-in is off.", "success")
            return redirect(url_for("auth.two_factor_page"))
        except AppServiceError as refusal:
            form.form_errors.append(refusal.message)
            status = 400
    elif form.is_submitted():
        status = 400
    left = two_factor.recovery_codes_left(user)
    return render_template("auth/two_factor_on.html", form=form, left=left), status


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The login's second step: a code from the authenticator app, or a recovery code. A wrong
    one counts against the login limits, as a wrong password does."""
    pending = session.get("pending_login")
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        session.pop("pending_login", None)
        flash("Log in again: the time to give the code ran out.", "info")
        return redirect(url_for("auth.login"))
    user = users.get_user(int(pending["user"]))
    form = CodeForm()
    if form.validate_on_submit():
        login_limits.check_login(user.username)
        if user.active and two_factor.check(user, form.code.data):
            db.session.commit()
            session.clear()  # nothing from before the login is kept
            login_user(user)
            return redirect(safe_next(pending.get("next"), url_for("dashboard.index")))
        db.session.rollback()
        login_limits.record_failed_login(user.username, "wrong two-factor code")
        form.code.errors = [*form.code.errors, "That code is not right."]
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login_code.html", form=form), status


@bp.before_app_request
def admins_enrol_first():
    """With REQUIRE_2FA_FOR_ADMINS, an admin without two-factor sign-in sees its page first."""
    if not current_app.config["REQUIRE_2FA_FOR_ADMINS"] or is_api_request():
        return None
    if not current_user.is_authenticated or not current_user.is_admin:
        return None
    if current_user.has_two_factor or request.endpoint in OPEN_TO_ADMINS_WITHOUT:
        return None
    flash("Admins must turn on two-factor sign-in first.", "info")
    return redirect(url_for("auth.two_factor_page"))


def _no_store(page):
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response

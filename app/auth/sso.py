"""Single sign-on with an OpenID provider (Authlib): the authorization code flow with PKCE
(S256) and a nonce, the ID token checked against the provider's keys, then the account of its
subject (app.services.access.sso). Set up only when OIDC_ISSUER and OIDC_CLIENT_ID are set."""

from __future__ import annotations

import requests
from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_login import login_user

from app.auth.routes import bp
from app.auth.session import safe_next
from app.exceptions import AppServiceError
from app.extensions import db
from app.observability.reports import report_server_error
from app.services import audit
from app.services.access import sso


def setup(flask_app: Flask) -> None:
    """The app's OpenID client, when single sign-on is configured (one per app: Authlib
    caches clients by name)."""
    config = flask_app.config
    if not (config["OIDC_ISSUER"] and config["OIDC_CLIENT_ID"]):
        return  # and Authlib is never imported
    from authlib.integrations.flask_client import OAuth

    client = OAuth(flask_app).register(
        "oidc", client_id=config["OIDC_CLIENT_ID"], client_secret=config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{config['OIDC_ISSUER']}/.well-known/openid-configuration",
        client_kwargs={"scope": config["OIDC_SCOPES"], "code_challenge_method": "S256"},
    )  # fmt: skip
    flask_app.extensions["sso_client"] = client


def _client():
    client = current_app.extensions.get("sso_client")
    if client is None:
        abort(404)
    return client


@bp.get("/login/sso")
def sso_start():
    """Off to the provider (its state, nonce and PKCE verifier kept in the session)."""
    client = _client()
    session["sso_next"] = request.args.get("next")
    try:
        return client.authorize_redirect(url_for("auth.sso_callback", _external=True))
    except requests.RequestException as error:
        return _provider_down(error)


@bp.get("/login/sso/callback")
def sso_callback():
    """Back from the provider: the code exchanged (with the PKCE verifier), the ID token and
    its nonce checked, then the subject's account signed in."""
    from authlib.integrations.base_client import OAuthError

    client, wanted = _client(), session.pop("sso_next", None)
    try:
        claims = client.authorize_access_token()["userinfo"]
        user = sso.account_for(claims)
    except OAuthError as refusal:  # refused or cancelled at the provider, or a stale state
        audit.record("sso", "login-failed", "sso", "refused", refusal.error[:200])
        db.session.commit()
        flash(f"Single sign-on did not complete ({refusal.error}). Try again.", "error")
        return redirect(url_for("auth.login"))
    except AppServiceError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("auth.login"))
    except requests.RequestException as error:
        return _provider_down(error)
    session.clear()  # nothing from before the login is kept
    login_user(user)
    return redirect(safe_next(wanted, url_for("dashboard.index")))


def _provider_down(error: Exception):
    reference = report_server_error(error, 502)
    note = f" (error reference {reference})" if reference else ""
    flash(f"The sign-in provider could not be reached{note}. Try again later.", "error")
    return redirect(url_for("auth.login"))

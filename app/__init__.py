"""The Proxmox VE portal: `create_app` builds the Flask app from small named steps."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config as settings
from app import queue_backends  # noqa: F401 - first: Huey without the backends not used

# isort: split
from app import proxmox
from app.extensions import csrf, db, login_manager, sock
from app.security import init_security

log = logging.getLogger(__name__)


def create_app(config: dict | None = None) -> Flask:
    """Build the portal. `config` overrides settings read from the environment (tests use it)."""
    flask_app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_path=str(settings.INSTANCE_PATH),
    )
    load_config(flask_app, config)
    init_security(flask_app)
    register_extensions(flask_app)
    load_app_catalog(flask_app)
    register_blueprints(flask_app)
    register_errorhandlers(flask_app)
    register_commands(flask_app)
    register_template_helpers(flask_app)
    init_observability(flask_app)
    return flask_app


def load_config(flask_app: Flask, overrides: dict | None) -> None:
    """Environment (and .env), then overrides; production refuses to run without SECRET_KEY."""
    settings.load_dotenv_file()
    flask_app.config.update(settings.from_environment())
    flask_app.config.update(overrides or {})
    if not flask_app.config.get("SECRET_KEY"):
        if not (flask_app.debug or flask_app.testing):
            raise RuntimeError(
                "SECRET_KEY is not set. Set it in the environment or in .env, e.g. "
                'SECRET_KEY=$(python -c "import secrets; print(secrets.token_hex(32))")'
            )
        import secrets

        flask_app.config["SECRET_KEY"] = secrets.token_hex(32)
        log.warning("SECRET_KEY is not set: using a random key; sessions end on restart.")
    if flask_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        settings.INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
    if flask_app.config.get("PROXY_COUNT"):
        count = flask_app.config["PROXY_COUNT"]
        proxied = ProxyFix(flask_app.wsgi_app, x_for=count, x_proto=count, x_host=count)
        flask_app.wsgi_app = proxied  # type: ignore[method-assign]  # Flask's documented way


def register_extensions(flask_app: Flask) -> None:
    """Bind db, login, CSRF, the Proxmox client and single sign-on (the migrations are bound
    only where they are used: app.schema)."""
    db.init_app(flask_app)
    login_manager.init_app(flask_app)
    csrf.init_app(flask_app)
    # noVNC and the terminal ask for PVE's `binary` subprotocol; pings keep proxies from
    # closing a quiet console. A message bigger than CONSOLE_MAX_MESSAGE_BYTES closes it (1009)
    # before it is held in memory.
    flask_app.config.setdefault(
        "SOCK_SERVER_OPTIONS",
        {"subprotocols": ["binary"], "ping_interval": 25,
         "max_message_size": flask_app.config["CONSOLE_MAX_MESSAGE_BYTES"]},
    )  # fmt: skip
    sock.init_app(flask_app)
    proxmox.init_app(flask_app)
    from app.auth.session import configure_login_manager
    from app.auth.sso import setup as setup_single_sign_on

    configure_login_manager(login_manager)
    setup_single_sign_on(flask_app)  # the OpenID client, if OIDC_ISSUER is set


def load_app_catalog(flask_app: Flask) -> None:
    """The app catalog (catalog/*.yaml); a file that does not validate stops the start."""
    from app.catalog import load_catalog

    icons = Path(flask_app.static_folder or "") / "icons" / "apps"
    flask_app.extensions["catalog"] = load_catalog(Path(flask_app.config["CATALOG_DIR"]), icons)


def register_blueprints(flask_app: Flask) -> None:
    """One blueprint per feature."""
    from app.admin import bp as admin_bp
    from app.api import register as register_api
    from app.apps import bp as apps_bp
    from app.audit import bp as audit_bp
    from app.auth import bp as auth_bp
    from app.console import bp as console_bp
    from app.dashboard import bp as dashboard_bp
    from app.guests import bp as guests_bp
    from app.health import bp as health_bp
    from app.myapps import bp as myapps_bp
    from app.notify import bp as notify_bp
    from app.tasks import bp as tasks_bp
    from app.tokens import bp as tokens_bp

    flask_app.register_blueprint(auth_bp)
    flask_app.register_blueprint(dashboard_bp)
    flask_app.register_blueprint(guests_bp)
    flask_app.register_blueprint(tasks_bp)
    flask_app.register_blueprint(audit_bp)
    flask_app.register_blueprint(apps_bp)
    flask_app.register_blueprint(myapps_bp)
    flask_app.register_blueprint(notify_bp)
    flask_app.register_blueprint(tokens_bp)
    flask_app.register_blueprint(console_bp)
    flask_app.register_blueprint(admin_bp, url_prefix="/admin")
    flask_app.register_blueprint(health_bp)
    register_api(flask_app)  # /api/v1 and its OpenAPI document


def register_errorhandlers(flask_app: Flask) -> None:
    """Error pages for Proxmox failures, service refusals, HTTP errors and the unexpected."""
    from app.errors import register_errorhandlers as register

    register(flask_app)


def register_commands(flask_app: Flask) -> None:
    """`flask init-db`, `flask users ...`, `flask tokens ...`, `flask sentry-check`,
    `flask base-template` and `flask worker`."""
    from app.cli import (
        base_template_command,
        init_db_command,
        sentry_check_command,
        tokens_cli,
        users_cli,
        worker_command,
    )
    from app.schema import db_commands

    flask_app.cli.add_command(init_db_command)
    flask_app.cli.add_command(db_commands)
    flask_app.cli.add_command(worker_command)
    flask_app.cli.add_command(users_cli)
    flask_app.cli.add_command(tokens_cli)
    flask_app.cli.add_command(sentry_check_command)
    flask_app.cli.add_command(base_template_command)


def init_observability(flask_app: Flask) -> None:
    """Sentry, when SENTRY_DSN (or SENTRY_SPOTLIGHT) is set; see app/observability/."""
    from app.observability import init_sentry

    init_sentry(flask_app)


def register_template_helpers(flask_app: Flask) -> None:
    """Filters that format bytes, percentages and durations in templates; URL helpers; what
    the Proxmox token lacks for an action."""
    from app import formatting, urls
    from app.catalog import RUNTIME_LABELS
    from app.guests.forms import new_request_key
    from app.services.console import access as console_access
    from app.services.guests import rights

    flask_app.jinja_env.filters.update(
        bytes=formatting.human_bytes,
        percent=formatting.percent,
        duration=formatting.duration,
        timestamp=formatting.timestamp,
    )
    flask_app.jinja_env.globals.update(guest_url=urls.guest_url, node_url=urls.node_url)
    flask_app.jinja_env.globals["new_request_key"] = new_request_key
    flask_app.jinja_env.globals.update(
        missing_right=rights.missing,
        deploy_action=rights.deploy_action,
        RUNTIME_LABELS=RUNTIME_LABELS,
    )
    flask_app.jinja_env.globals["consoles_of"] = console_access.consoles_of
    flask_app.jinja_env.globals["app_version"] = flask_app.config["APP_VERSION"]

"""Flask commands: `flask --app wsgi init-db`, `... users ...`, `... tokens ...`,
`... sentry-check`, `... base-template` and `... worker`."""

from __future__ import annotations

import getpass
import logging

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app import observability, schema
from app.auth.forms import PASSWORD_MIN
from app.exceptions import AppServiceError, NotFoundError, ProxmoxError
from app.extensions import db
from app.models import ROLES, SCOPES, ApiToken
from app.services import audit, ownership, users
from app.services.access import tokens


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database or bring it to the current schema (runs the migrations)."""
    schema.upgrade(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo("Database is at the current schema.")


users_cli = AppGroup("users", help="Create and list portal users.")


def _check_password(password: str) -> str:
    if len(password) < PASSWORD_MIN:
        raise click.BadParameter(f"must be at least {PASSWORD_MIN} characters.")
    return password


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="user", show_default=True)
@click.option("--email", default=None, help="Optional e-mail address.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    callback=lambda _ctx, _param, value: _check_password(value),
    help="Prompted for (hidden, twice) when omitted.",
)
def create_user_command(username: str, role: str, email: str | None, password: str) -> None:
    """Create a user called USERNAME."""
    try:
        user = users.create_user(username, password, role, email, acting=shell_actor())
    except AppServiceError as refusal:
        raise click.ClickException(refusal.message) from None
    click.echo(f"Created {user.role} {user.username}.")


@users_cli.command("set-password")
@click.argument("username")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    callback=lambda _ctx, _param, value: _check_password(value),
    help="Prompted for (hidden, twice) when omitted.",
)
def set_password_command(username: str, password: str) -> None:
    """Set a new password for USERNAME (e.g. a locked-out admin)."""
    user = _existing_user(username)
    audit.record(shell_actor(), "set-password", f"user/{user.username}", "done")
    users.reset_password(user, password)
    click.echo(f"Password of {user.username} changed; their sessions and API tokens have ended.")


@users_cli.command("list")
def list_users_command() -> None:
    """List users: name, role, enabled or disabled, e-mail."""
    for user in users.list_users():
        state = "active" if user.active else "disabled"
        click.echo(f"{user.username}\t{user.role}\t{state}\t{user.email or ''}")


@users_cli.command("assign")
@click.argument("username")
@click.argument("vmids", nargs=-1, type=int, required=True)
def assign_command(username: str, vmids: tuple[int, ...]) -> None:
    """Give the guests VMIDS to USERNAME (a user; admins see every guest anyway).

    The guests are looked up in Proxmox: an assignment names its guest's type and name.
    """
    user = _existing_user(username)
    if user.is_admin:
        raise click.ClickException(f"{user.username} is an admin and sees every guest already.")
    try:
        guests = ownership.find_by_vmids(vmids)
    except (NotFoundError, ProxmoxError) as error:
        raise click.ClickException(str(error)) from None
    for guest in guests:
        ownership.set_owner(shell_actor(), guest, user)
    click.echo(f"{user.username} now has guests {', '.join(map(str, vmids))}.")


def shell_actor() -> str:
    """How the audit log names whoever runs a `flask users ...` command: `shell:<login>`."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no login name in this environment
        login = "unknown"
    return f"shell:{login}"


def _existing_user(username: str):
    user = users.find_by_username(username)
    if user is None:
        raise click.ClickException(f"There is no user called {username!r}.")
    return user


tokens_cli = AppGroup("tokens", help="Make, list and revoke users' API tokens.")


@tokens_cli.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. ci.")
@click.option("--scope", type=click.Choice(SCOPES), default="read", show_default=True)
@click.option("--days", type=int, default=None, help="Until it expires [API_TOKEN_DAYS].")
def create_token_command(username: str, name: str, scope: str, days: int | None) -> None:
    """Make an API token for USERNAME and print it (only this once)."""
    user = _existing_user(username)
    try:
        _, secret = tokens.create(shell_actor(), user, name, scope, days)
    except AppServiceError as refusal:
        raise click.ClickException(refusal.message) from None
    click.echo(secret)


@tokens_cli.command("list")
@click.argument("username")
def list_tokens_command(username: str) -> None:
    """List USERNAME's tokens: id, name, scope, expiry, last use, state."""
    for token in tokens.of_user(_existing_user(username)):
        state = "revoked" if token.revoked_at else "live"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
        click.echo(f"{token.id}\t{token.name}\t{token.scope}\t"
                   f"expires {token.expires_at:%Y-%m-%d}\t{used}\t{state}")  # fmt: skip


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke_token_command(token_id: int) -> None:
    """Revoke the token with id TOKEN_ID (see `tokens list`)."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"There is no token {token_id}.")
    tokens.revoke(shell_actor(), token)
    click.echo(f"Revoked {token.name} of {token.user.username}.")


class SentryCheckError(Exception):
    """The test exception `flask sentry-check` reports."""


@click.command("sentry-check")
@with_appcontext
def sentry_check_command() -> None:
    """Send a test event to Sentry, flush it, and print its id, environment and release."""
    config = current_app.config
    if not (config.get("SENTRY_DSN") or config.get("SENTRY_SPOTLIGHT")):
        raise click.ClickException("SENTRY_DSN is not set: there is nowhere to send the event.")
    environment, release = observability.current_environment_and_release()
    if environment is None:
        raise click.ClickException(
            "Sentry did not start; see the warning above (is SENTRY_DSN valid?)."
        )
    try:
        raise SentryCheckError("flask sentry-check: a test event from the Proxmox portal")
    except SentryCheckError as exc:
        event_id = observability.capture(exc, "sentry_check")
    observability.flush()
    if observability.delivery_failed():
        raise click.ClickException(
            f"Sentry did not take the test event {event_id}; see the warning above."
        )
    click.echo(f"Sent test event {event_id}")
    click.echo(f"environment: {environment}")
    click.echo(f"release: {release}")


@click.command("base-template")
@click.argument("node")
@click.argument("storage")
@with_appcontext
def base_template_command(node: str, storage: str) -> None:
    """Make the base template (portal-debian-13) on NODE, its disk on STORAGE: the same job
    as the admin page's, run here until it ends (minutes)."""
    from app import jobs
    from app.services.apps import base_builds, deploys

    choices = base_builds.overview(deploys.cluster_now())
    try:
        build = base_builds.start(shell_actor(), node, storage, choices, jobs.run_app.call_local)
    except AppServiceError as refusal:
        raise click.ClickException(refusal.message) from None
    db.session.refresh(build)  # as the job left it
    for step in build.steps:
        click.echo(f"{step.status:>8}  {step.label}{': ' + step.detail if step.detail else ''}")
    if build.status != "running":
        raise click.ClickException(f"{build.error} (error reference {build.error_reference})")
    click.echo(f"The base template is ready on {node}: {build.outputs[0]['value']}.")


@click.command("worker")
@click.option("--workers", type=int, default=None, help="Jobs run at once [JOB_WORKERS: 2].")
@with_appcontext
def worker_command(workers: int | None) -> None:
    """Run the job worker (app/jobs.py) until Ctrl-C or SIGTERM; jobs in flight finish first."""
    from app import jobs
    from app.memory import freeze_startup_objects, give_back_large_blocks

    give_back_large_blocks()
    workers = workers or int(current_app.config["JOB_WORKERS"])

    jobs.bind_flask_app(current_app._get_current_object())  # type: ignore[attr-defined]
    freeze_startup_objects()  # the app and its jobs are loaded
    # What the worker does (deploys taken, resumed, skipped) goes to its output, for journald.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    click.echo(f"Worker: {workers} threads, jobs from {jobs.huey.storage.__class__.__name__}.")
    # SIGTERM (systemd, Ctrl-C's polite cousin) lets running jobs finish before it exits.
    consumer = jobs.huey.create_consumer(
        workers=workers, worker_type="thread", graceful_signal="TERM"
    )
    consumer.run()

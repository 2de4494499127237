"""The database schema's migrations (Flask-Migrate, Alembic), loaded only where they are used:
`flask init-db`, `flask db ...`, the tests and the demo's setup. Web workers and the job worker
never import them: Alembic brings Mako and Pygments, about 12 MB in every process.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import ScriptInfo

from app import config as settings
from app.extensions import db


def bind(flask_app: Flask) -> None:
    """Flask-Migrate on the app (once): what `upgrade` and the `db` commands need."""
    if "migrate" not in flask_app.extensions:
        from flask_migrate import Migrate

        Migrate(flask_app, db, directory=str(settings.PROJECT_ROOT / "migrations"))


def upgrade(flask_app: Flask) -> None:
    """Bring the database to the newest migration (inside the app's context)."""
    bind(flask_app)
    from flask_migrate import upgrade as to_newest

    to_newest()


class MigrationCommands(click.Group):
    """`flask db ...`: Flask-Migrate's own commands, loaded when one is asked for."""

    def _commands(self, ctx: click.Context) -> click.Group:
        bind(ctx.ensure_object(ScriptInfo).load_app())
        from flask_migrate.cli import db as commands

        return commands

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        real = self._commands(ctx)  # its options (--directory, -x) and what they set
        self.params, self.callback = real.params, real.callback
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._commands(ctx).list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._commands(ctx).get_command(ctx, cmd_name)


db_commands = MigrationCommands("db", help="Database migrations (Flask-Migrate, Alembic).")

"""The account's API tokens: make one (shown once), see their last use, revoke them; admins
see and revoke everyone's."""

from app.tokens.routes import bp

__all__ = ["bp"]

"""The API's caller: who the token belongs to, and their quota."""

from __future__ import annotations

from flask import g
from flask_login import current_user
from spectree import Response

from app.api.base import bp, spec
from app.api.schemas import Me, Problem, QuotaOut
from app.services import quotas

TAGS = ("account",)


@bp.get("/me")
@spec.validate(resp=Response(HTTP_200=Me, HTTP_401=Problem), tags=TAGS)
def me():
    """The token's user and the token itself (its name, scope and expiry)."""
    token = g.api_token
    return Me(
        id=current_user.id, username=current_user.username, role=current_user.role,
        token_name=token.name, token_scope=token.scope, token_expires_at=token.expires_at,
    )  # fmt: skip


@bp.get("/quota")
@spec.validate(resp=Response(HTTP_200=QuotaOut, HTTP_401=Problem), tags=TAGS)
def quota():
    """What you own now against your limits (a limit of null: none)."""
    usage = quotas.usage(current_user)
    return QuotaOut(limits=usage.limits, used=usage.used)

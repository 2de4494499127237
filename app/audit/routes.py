"""Audit log view: admins see and filter everything; users see their own entries."""

from datetime import date

from flask import render_template, request
from flask_login import current_user, login_required

from app.audit import bp
from app.services import audit
from app.services.users import list_users


def _date(name: str, problems: list[str]) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(f"Ignored the {name} date {value[:20]!r}: use YYYY-MM-DD.")
        return None


@bp.get("/audit")
@login_required
def index():
    """Newest first, 50 per page, filtered by user, action, target and date."""
    problems: list[str] = []
    filters = audit.AuditFilter(
        user=request.args.get("user", "").strip()[:64],
        action=request.args.get("action", "")
        if request.args.get("action") in audit.ACTIONS
        else "",
        target=request.args.get("target", "").strip()[:128],
        since=_date("since", problems),
        until=_date("until", problems),
    )
    pagination = audit.page(current_user, filters, request.args.get("page", 1, type=int))
    usernames = [u.username for u in list_users()] if current_user.is_admin else []
    return render_template(
        "audit/index.html", pagination=pagination, filters=filters, problems=problems,
        actions=audit.ACTIONS, usernames=usernames,
    )  # fmt: skip

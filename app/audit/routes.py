"""Audit log view: admins see and filter everything; users see their own entries."""

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from app.services import audit
from app.services.users import list_users
from app.validation import date_arg, int_arg

bp = Blueprint("audit", __name__)


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
        since=date_arg(request.args, "since", problems),
        until=date_arg(request.args, "until", problems),
    )
    number = int_arg(request.args, "page", 1, 1, audit.MAX_PAGE, problems)
    pagination = audit.page(current_user, filters, number)
    usernames = [u.username for u in list_users()] if current_user.is_admin else []
    return render_template(
        "audit/index.html", pagination=pagination, filters=filters, problems=problems,
        actions=audit.ACTIONS, usernames=usernames,
    )  # fmt: skip

"""Dashboard views: thin wrappers over app.services.dashboard."""

from flask import Blueprint, current_app, make_response, render_template, request
from flask_login import current_user, login_required

from app.exceptions import ProxmoxError
from app.services import dashboard, ownership

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@login_required
def index():
    """Cluster summary and the guest table, filtered and sorted by query parameters."""
    return _render("dashboard/index.html")


@bp.get("/dashboard/live")
@login_required
def live():
    """What an open dashboard refreshes (htmx): the guest list, node cards and status line, in
    one Proxmox call. If Proxmox does not answer, only the status line changes, to say so; a
    background refresh is not reported to Sentry (the page that fails to load is)."""
    try:
        return _render("dashboard/_live.html")
    except ProxmoxError as error:
        response = make_response(
            render_template(
                "dashboard/_stale.html", problem=error.message_for(current_user.is_admin)
            )
        )
        response.headers["HX-Reswap"] = "none"  # keep the last figures; swap the status only
        return response


def _render(template: str):
    resources = ownership.visible_resources(current_user)
    query, problems = dashboard.parse_query(request.args, [n.name for n in resources.nodes])
    return render_template(
        template,
        dashboard=dashboard.build_dashboard(resources, query),
        query=query,
        problems=problems,
        statuses=dashboard.STATUSES,
        guest_types=dashboard.GUEST_TYPES,
        sort_keys=dashboard.SORT_KEYS,
        refresh=current_app.config["DASHBOARD_REFRESH_SECONDS"],
    )


@bp.route("/nodes/<node>")
@login_required
def node(node: str):
    """One node's status and its guests."""
    node_info, status, guests = dashboard.node_page(node, current_user)
    return render_template("dashboard/node.html", node=node_info, status=status, guests=guests)

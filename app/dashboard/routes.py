"""Dashboard views: thin wrappers over app.services.cluster."""

from flask import current_app, make_response, render_template, request
from flask_login import current_user, login_required

from app.dashboard import bp
from app.exceptions import ProxmoxError
from app.services import cluster, ownership


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
    query, problems = cluster.parse_query(request.args, [n.name for n in resources.nodes])
    return render_template(
        template,
        dashboard=cluster.build_dashboard(resources, query),
        query=query,
        problems=problems,
        statuses=cluster.STATUSES,
        guest_types=cluster.GUEST_TYPES,
        sort_keys=cluster.SORT_KEYS,
        refresh=current_app.config["DASHBOARD_REFRESH_SECONDS"],
    )


@bp.route("/nodes/<node>")
@login_required
def node(node: str):
    """One node's status and its guests."""
    node_info, status, guests = cluster.node_page(node, current_user)
    return render_template("dashboard/node.html", node=node_info, status=status, guests=guests)

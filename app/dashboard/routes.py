"""Dashboard views: thin wrappers over app.services.cluster."""

from flask import render_template, request
from flask_login import current_user, login_required

from app.dashboard import bp
from app.services import cluster, ownership


@bp.route("/")
@login_required
def index():
    """Cluster summary and the guest table, filtered and sorted by query parameters."""
    resources = ownership.visible_resources(current_user)
    query, problems = cluster.parse_query(request.args, [n.name for n in resources.nodes])
    return render_template(
        "dashboard/index.html",
        dashboard=cluster.build_dashboard(resources, query),
        query=query,
        problems=problems,
        statuses=cluster.STATUSES,
        guest_types=cluster.GUEST_TYPES,
        sort_keys=cluster.SORT_KEYS,
    )


@bp.route("/nodes/<node>")
@login_required
def node(node: str):
    """One node's status and its guests."""
    node_info, status, guests = cluster.node_page(node, current_user)
    return render_template("dashboard/node.html", node=node_info, status=status, guests=guests)

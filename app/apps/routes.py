"""Catalog views: the list of apps (category filter, search) and one app's page."""

from flask import render_template, request
from flask_login import login_required

from app.apps import bp
from app.services import catalog


@bp.get("/apps")
@login_required
def index():
    """Every app in the catalog, by category and search text (no Proxmox call)."""
    categories = catalog.categories()
    category = request.args.get("category", "")
    if category not in categories:
        category = ""
    text = request.args.get("q", "")[: catalog.SEARCH_MAX]
    return render_template(
        "apps/index.html",
        apps=catalog.search(category, text),
        categories=categories,
        category=category,
        q=text,
    )


@bp.get("/apps/<app_id>")
@login_required
def show(app_id: str):
    """One app: what it is, what it needs, and whether this cluster has its source."""
    app = catalog.get(app_id)
    return render_template("apps/show.html", app=app, availability=catalog.availability(app))

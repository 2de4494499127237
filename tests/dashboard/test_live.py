"""An open dashboard refreshes its guest list and node cards in place (htmx), keeping its
filters, sort and page, in one Proxmox call per refresh."""

import html
import re

from tests.conftest import log_in
from tests.dashboard.test_dashboard import listed

QUERY = "?node=pve1&type=qemu&sort=name&order=desc"


def test_the_page_polls_with_its_own_filters_sort_and_page(cluster, admin_client):
    page = admin_client.get("/" + QUERY).data.decode()
    poller = re.search(
        r'<div id="guest-list" data-live hx-get="([^"]+)" hx-trigger="([^"]+)"', page
    )
    assert poller, "the guest list should poll"
    assert html.unescape(poller.group(1)) == "/dashboard/live" + QUERY
    assert poller.group(2) == "every 5s, refresh"
    assert '<script src="/static/js/portal.js" defer></script>' in page  # pauses when hidden


def test_a_refresh_is_the_list_and_cards_only_in_one_call(cluster, admin_client):
    cluster.requests.clear()
    response = admin_client.get("/dashboard/live" + QUERY)
    assert response.status_code == 200
    assert [(m, p) for m, p, _ in cluster.requests] == [("GET", "/api2/json/cluster/resources")]
    fragment = response.data
    assert b"<html" not in fragment and b"<form" not in fragment
    assert listed(fragment) == [100, 102]  # web-1 and build on pve1, by name descending
    assert b'id="node-cards" class="summary grid" aria-label="Nodes" hx-swap-oob="true"' in fragment
    cluster.vm(102).status = "running"
    assert (
        b'<span class="badge badge-running">running</span>'
        in admin_client.get("/dashboard/live?status=running").data
    )  # what changed shows on the next refresh
    assert listed(admin_client.get("/dashboard/live?status=running").data) == [100, 102, 200]


def test_proxmox_away_keeps_the_figures_and_says_so(sentry, cluster):
    app, transport = sentry()
    client = log_in(app)
    cluster.fail("GET", "/cluster/resources", 401, "authentication failure")
    response = client.get("/dashboard/live")
    assert response.status_code == 200 and response.headers["HX-Reswap"] == "none"
    body = response.data.decode()
    assert 'id="live-status"' in body and "Could not refresh: Proxmox at" in body
    assert "<table" not in body
    assert transport.events() == []  # a background refresh; the page itself would report

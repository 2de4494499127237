"""The dashboard lists exactly what fakepve holds, filters it, and costs one Proxmox call."""

import re

import pytest

from tests.dashboard.conftest import GUESTS


def listed(page: bytes, table: int = 0) -> list[int]:
    """vmids of the rows in the n-th guest table of a page, in order."""
    tables = page.decode().split('<table class="striped guests">')[1:]
    return [int(v) for v in re.findall(r'<tr data-vmid="(\d+)">', tables[table])]


def test_dashboard_lists_exactly_the_guests_fakepve_holds(cluster, admin_client):
    page = admin_client.get("/").data
    assert listed(page, 0) == [g[1] for g in GUESTS if not g[6]]
    assert listed(page, 1) == [9000, 9001]  # templates, listed apart
    assert b"5 guests" in page


def test_summary_shows_nodes_and_counts(cluster, admin_client):
    page = admin_client.get("/").data.decode()
    assert page.count('class="node-card"') == 2
    row = r'<th scope="row">(VMs|Containers)</th>\s*<td>(\d+)</td><td>(\d+)</td>'
    counts = re.findall(row, page)
    assert counts == [("VMs", "1", "2"), ("Containers", "1", "1")]


def test_exactly_one_proxmox_request_per_dashboard_view(cluster, admin_client):
    for query in ("", "?node=pve1&status=running&type=qemu&q=web&sort=cpu&order=desc"):
        cluster.requests.clear()
        assert admin_client.get("/" + query).status_code == 200
        assert [(m, p) for m, p, _ in cluster.requests] == [("GET", "/api2/json/cluster/resources")]


def test_request_count_does_not_grow_with_the_cluster(pve, admin_client):
    for vmid in range(100, 160):
        pve.add_vm(vmid, f"vm{vmid}", node=f"pve{vmid % 5}")
    pve.requests.clear()
    page = admin_client.get("/").data
    assert len(listed(page)) == 60
    assert len(pve.requests) == 1


def test_guests_are_paged_after_filtering_and_sorting(pve, admin_client):
    for vmid in range(1000, 1250):
        pve.add_vm(vmid, f"vm{vmid}", node="pve1", status="running" if vmid % 2 else "stopped")
    first = admin_client.get("/?status=running&sort=vmid&order=desc").data
    assert listed(first) == list(range(1249, 1049, -2))  # 100 rows, the highest running first
    text = first.decode()
    assert "Guests 1–100 of 125 matching (250 in all)" in text
    assert 'href="/?status=running&amp;order=desc&amp;page=2" rel="next"' in text
    second = admin_client.get("/?status=running&order=desc&page=2").data
    assert listed(second) == list(range(1049, 999, -2))  # the other 25
    assert "Guests 101–125 of 125 matching" in second.decode()
    # A new sort order starts at page 1; a page past the end shows the last page.
    assert 'href="/?status=running&amp;sort=name"' in second.decode()
    assert listed(admin_client.get("/?page=99").data) == list(range(1200, 1250))
    assert "Ignored page &#39;0&#39;" in admin_client.get("/?page=0").data.decode()
    assert listed(admin_client.get("/?page=x").data)[0] == 1000
    assert admin_client.get("/?page=%C2%B2").status_code == 200  # "²" is a digit, not a number


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("node=pve2", [101, 200]),
        ("status=running", [100, 200]),
        ("type=lxc", [200, 201]),
        ("q=WEB", [100, 201]),
        ("q=101", [101]),
        ("node=pve1&type=qemu&status=stopped", [102]),
        ("sort=name", [102, 101, 200, 100, 201]),
        ("sort=vmid&order=desc", [201, 200, 102, 101, 100]),
        ("q=nothing-matches", []),
    ],
)
def test_filters_and_sort(cluster, admin_client, query, expected):
    assert listed(admin_client.get("/?" + query).data) == expected


def test_filters_survive_in_sort_links_and_form(cluster, admin_client):
    page = admin_client.get("/?node=pve2&q=d").data.decode()
    assert 'href="/?node=pve2&amp;q=d&amp;sort=name"' in page
    assert '<option value="pve2" selected>' in page
    assert 'value="d" placeholder' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=exploded", "Ignored unknown status"),
        ("node=pve9", "Ignored unknown node"),
        ("type=docker", "Ignored unknown type"),
        ("sort=password", "Ignored unknown sort"),
        ("q=" + "x" * 300, "cut to its first 100 characters"),
    ],
)
def test_unknown_filter_values_are_explained_and_ignored(cluster, admin_client, query, message):
    response = admin_client.get("/?" + query)
    assert response.status_code == 200
    assert message in response.data.decode()


def test_plain_user_sees_the_dashboard(cluster, user_client):
    assert user_client.get("/").status_code == 200


def test_anonymous_is_sent_to_login(client):
    assert client.get("/").location.startswith("/login")


def test_node_page(cluster, admin_client):
    cluster.requests.clear()
    page = admin_client.get("/nodes/pve2").data.decode()
    assert "<h1>pve2" in page
    assert listed(page.encode(), 0) == [101, 200]
    assert listed(page.encode(), 1) == [9001]
    paths = [path for _, path, _ in cluster.requests]
    assert paths == ["/api2/json/cluster/resources", "/api2/json/nodes/pve2/status"]


def test_offline_node_page_says_so(cluster, admin_client):
    cluster.set_node_offline("pve2")
    page = admin_client.get("/nodes/pve2").data.decode()
    assert "This node is offline" in page


@pytest.mark.parametrize("name", ["pve9", "..", "%3Cscript%3E"])
def test_unknown_node_is_404(cluster, admin_client, name):
    response = admin_client.get(f"/nodes/{name}")
    assert response.status_code == 404
    assert "<script>" not in response.data.decode()

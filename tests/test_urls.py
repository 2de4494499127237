"""The hand-built row URLs equal what url_for builds, for plain and odd names and a prefix."""

import pytest
from flask import url_for

from app.proxmox.cluster import Guest
from app.urls import guest_url, node_url


@pytest.mark.parametrize("root", ["", "/portal"])
@pytest.mark.parametrize("node", ["pve1", "node with space", "ünï cøde?&#=%"])
def test_row_urls_equal_url_for(app, root, node):
    guest = Guest(vmid=105, name="web", type="lxc", node=node, status="running")
    with app.test_request_context("/", base_url=f"http://portal.example{root}"):
        assert guest_url(guest) == url_for("guests.show", node=node, guest_type="lxc", vmid=105)
        assert node_url(node) == url_for("dashboard.node", node=node)

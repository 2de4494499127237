"""URLs the guest tables write on every row, built without url_for's cost (which is half the
time of rendering a 100-row dashboard). tests/test_urls.py holds them equal to url_for's."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from flask import request

PATH_SAFE = "!$&'()*+,/:;=@"  # what werkzeug's routing leaves unquoted in a path part


def guest_url(guest) -> str:
    """The guest page of a cluster.Guest, as url_for('guests.show', ...) would build it."""
    return f"{request.script_root}/guests/{_quoted(guest.node)}/{guest.type}/{guest.vmid}"


def node_url(node: str) -> str:
    """A node's page, as url_for('dashboard.node', node=node) would build it."""
    return f"{request.script_root}/nodes/{_quoted(node)}"


@lru_cache(maxsize=1024)  # a cluster has a handful of nodes
def _quoted(name: str) -> str:
    return quote(name, safe=PATH_SAFE)

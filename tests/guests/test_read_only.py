"""The README's read-only setup (a token holding PVEAuditor only) shows a clean read-only
portal: every kind of page linked from the dashboard, for an admin and a user, offers no action
Proxmox would refuse; the actions show disabled, naming the privilege they lack."""

import json
import re
from pathlib import Path

import pytest
from fakepve.pytest_plugin import _Serving

from scripts.fakepve_demo import AUDITOR, DemoPve, load_cluster
from tests.conftest import TOKEN_VALUE
from tests.e2e.crawl import NOT_PAGES, kind_of
from tests.guests.test_rights import enabled_forms

DEMO_CLUSTER = json.loads((Path(__file__).parents[2] / "demo" / "cluster.json").read_text())
TOKEN = "portal@pve!portal"
# POST forms that change only the portal: passwords, notifications, API tokens, two-factor
# sign-in, accounts, who owns a guest.
PORTAL_ONLY = re.compile(
    r"^/(account/(password|notifications.*|tokens.*|two-factor)|admin/users.*|guests/.+/owner)$"
)


@pytest.fixture
def pve(_fakepve_pki):
    """The demo cluster, as `DEMO_READ_ONLY=1 make demo` serves it."""
    fake = DemoPve(user="root@pam", password="secret", host="127.0.0.1", port=0)
    fake.time_scale = 0
    fake.apitokens[TOKEN] = TOKEN_VALUE
    for holder in (TOKEN, "portal@pve"):
        fake.grant(holder, "/", *AUDITOR)
    load_cluster(fake, DEMO_CLUSTER)
    serving = _Serving(fake, *_fakepve_pki)
    yield fake
    serving.stop()


def crawl(client) -> dict[str, str]:
    """Every kind of page linked from the dashboard: {path: html}."""
    queue, seen, pages = ["/"], {"/"}, {}
    while queue:
        path = queue.pop(0)
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = response.data.decode()
        for link in re.findall(r'href="(/[^"#]*)"', pages[path]):
            link = link.replace("&amp;", "&")
            if not link.startswith(NOT_PAGES) and kind_of(link) not in seen:
                seen.add(kind_of(link))
                queue.append(link)
    return pages


@pytest.mark.parametrize("username", ["alice", "bob"])
def test_no_page_offers_what_the_token_cannot_do(make_app, login, username):
    app = make_app(PROXMOX_USER="portal@pve")
    client = app.test_client()
    login(username, client=client)
    app.test_cli_runner().invoke(args=["users", "assign", "bob", "108", "205"])
    pages = crawl(client)
    assert len(pages) > (15 if username == "alice" else 10), list(pages)
    offered = {
        path: [a or path for a in enabled_forms(html) if not PORTAL_ONLY.match(a or path)]
        for path, html in pages.items()
    }
    assert {path: actions for path, actions in offered.items() if actions} == {}
    every_page = "".join(pages.values())
    for privilege in ("VM.PowerMgmt", "VM.Clone", "VM.Backup", "VM.Config.Memory"):
        assert f"The portal's Proxmox token lacks {privilege}" in every_page, privilege
    assert "Taking snapshots needs VM.Snapshot" in every_page

"""The README's read-only setup (a token holding PVEAuditor only) shows a clean read-only
portal: every page, and no action it cannot do."""

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import start_portal
from tests.e2e.crawl import crawl

FAKEPVE_READ_ONLY = True
# POST forms that change only the portal itself: log out, passwords, accounts, owners.
PORTAL_ONLY = ("/logout", "/account/password", "/owner", "/admin/users")


@pytest.fixture(scope="module")
def web(tmp_path_factory, pve_server):
    portal = start_portal(tmp_path_factory.mktemp("portal"), pve_server, "wsgi:app",
                          PROXMOX_USER="portal@pve")  # fmt: skip
    yield portal
    portal.stop()


def test_no_page_offers_what_the_token_cannot_do(browser, web):
    visits = crawl(browser, web.url, "alice", ADMIN_PASSWORD, "laptop")
    assert len(visits) > 15
    assert {v.path: v.problems for v in visits if v.problems} == {}
    offered = {
        v.path: [a for a in v.actions if not (a.endswith(PORTAL_ONLY) or "/admin/users" in a)]
        for v in visits
    }
    assert {path: actions for path, actions in offered.items() if actions} == {}
    tooltips = {title for v in visits for title in v.unavailable}
    assert "The portal's Proxmox token lacks VM.PowerMgmt" in tooltips
    assert "The portal's Proxmox token lacks VM.Clone" in tooltips

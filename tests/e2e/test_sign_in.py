"""Signing in, in a real browser: two-factor sign-in turned on from the account page (its QR
code drawn by the portal, no CSP violation), the code asked for after the password, a recovery
code, and an admin's reset for a locked-out user; single sign-on through a real OpenID provider
(oidc-provider from npm, on loopback), an account made on the first sign-in and found again by
its subject, its role from the provider's groups."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD, free_port
from tests.e2e.conftest import openid_provider, start_portal

PORTALS: list[str] = []  # the portals' URLs: errors on the OpenID provider's pages are its own


@pytest.fixture(scope="module")
def web(tmp_path_factory, pve_server, browser):
    portal = start_portal(tmp_path_factory.mktemp("portal"), pve_server, "wsgi:app")
    PORTALS.append(portal.url)
    yield portal
    for context in browser.contexts:
        context.close()
    portal.stop()


@pytest.fixture
def fresh_page(browser):
    """A new browser context's page; every console error or CSP violation on a portal's page
    fails the test."""
    errors: list[str] = []
    pages: list[Page] = []

    def make() -> Page:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
        page.set_default_timeout(20_000)
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.context.close()
    refused_code = "/login/code: Failed to load resource: the server responded with a status of 400"
    ours = [e for e in errors if e.startswith(tuple(PORTALS)) and refused_code not in e]
    assert ours == []  # a wrong code's page is a 400


def password_step(page: Page, url: str, username: str, password: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")


def code_step(page: Page, code: str) -> None:
    page.fill("input[name=code]", code)
    page.press("input[name=code]", "Enter")


def test_two_factor_sign_in_in_the_browser(web, fresh_page):
    page = fresh_page()
    password_step(page, web.url, "bob", USER_PASSWORD)
    expect(page).to_have_url(web.url + "/")
    page.click("text=Two-factor")
    expect(page.locator("figure.qr svg")).to_be_visible()  # drawn by the portal, inline
    key = page.locator("#totp-key").inner_text().replace(" ", "")
    code_step(page, pyotp.TOTP(key).now())
    expect(page.locator("h1")).to_have_text("Two-factor sign-in is on")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.click("button:has-text('Log out')")

    # The password alone is not enough; a wrong code is refused; the next code lets bob in.
    password_step(page, web.url, "bob", USER_PASSWORD)
    expect(page).to_have_url(web.url + "/login/code")
    code_step(page, "000000")
    expect(page.locator(".field-error")).to_contain_text("That code is not right.")
    code_step(page, pyotp.TOTP(key).at(time.time() + 30))
    expect(page).to_have_url(web.url + "/")
    page.click("button:has-text('Log out')")

    # Without the phone: a recovery code, once.
    password_step(page, web.url, "bob", USER_PASSWORD)
    code_step(page, codes[0])
    expect(page).to_have_url(web.url + "/")
    page.click("button:has-text('Log out')")

    # Locked out: the admin resets it, and bob signs in with the password again.
    admin = fresh_page()
    password_step(admin, web.url, "alice", ADMIN_PASSWORD)
    admin.goto(web.url + "/admin/users")
    admin.click("a:has-text('bob')")
    expect(admin).to_have_url(re.compile(r"/admin/users/\d+$"))
    admin.click("button:has-text('Reset two-factor sign-in')")
    expect(admin.locator(".flash")).to_contain_text("Two-factor sign-in of bob is off.")
    password_step(page, web.url, "bob", USER_PASSWORD)
    expect(page).to_have_url(web.url + "/")


CLIENT_SECRET = "portal-client-secret-in-tests"


@pytest.fixture(scope="module")
def sso_web(tmp_path_factory, pve_server, browser):
    """The portal with single sign-on through a real OpenID provider on loopback."""
    port, provider_port = free_port(), free_port()
    callback = f"http://127.0.0.1:{port}/login/sso/callback"
    with openid_provider(provider_port, callback, CLIENT_SECRET) as issuer:
        portal = start_portal(
            tmp_path_factory.mktemp("sso"), pve_server, "wsgi:app", port=port,
            OIDC_ISSUER=issuer, OIDC_CLIENT_ID="portal", OIDC_CLIENT_SECRET=CLIENT_SECRET,
            OIDC_NAME="Test provider", OIDC_SCOPES="openid email profile groups",
            OIDC_ADMIN_VALUE="portal-admins",
        )  # fmt: skip
        PORTALS.append(portal.url)
        yield portal
        for context in browser.contexts:
            context.close()
        portal.stop()


def sign_in_at_the_provider(page: Page, url: str, name: str) -> None:
    """The portal's button, then the provider's own login and consent pages (a browser the
    provider knows already comes straight back)."""
    page.goto(url + "/login")
    page.click("text=Sign in with Test provider")
    page.wait_for_load_state()
    if page.url.startswith(url):
        return
    page.fill("input[name=login]", name)
    page.fill("input[name=password]", "any")  # the development provider checks no password
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if not page.url.startswith(url):  # its consent page
        page.click("button[type=submit]")


def test_single_sign_on_through_a_real_openid_provider(sso_web, fresh_page):
    page = fresh_page()
    sign_in_at_the_provider(page, sso_web.url, "dave")
    expect(page).to_have_url(sso_web.url + "/")
    expect(page.locator("nav.nav-wide, ul.nav-wide").first).to_contain_text("dave")
    expect(page.locator("ul.nav-wide")).not_to_contain_text("Users")  # a plain user
    page.click("button:has-text('Log out')")
    sign_in_at_the_provider(page, sso_web.url, "dave")  # the same subject: the same account
    expect(page).to_have_url(sso_web.url + "/")

    admin = fresh_page()
    sign_in_at_the_provider(admin, sso_web.url, "carol")  # in the provider's admin group
    expect(admin).to_have_url(sso_web.url + "/")
    admin.goto(sso_web.url + "/admin/users")
    names = admin.locator("table tbody tr td:first-child a").all_inner_texts()
    assert {"carol", "dave"} <= set(names)  # carol sees the users' page: she is an admin
    assert not any(n.startswith(("dave-", "carol-")) for n in names)  # found again by subject

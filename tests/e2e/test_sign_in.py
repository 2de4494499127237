"""Signing in, in a real browser: two-factor sign-in turned on from the account page (its QR
code drawn by the portal, no CSP violation), the code asked for after the password, a recovery
code, and an admin's reset for a locked-out user."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD
from tests.e2e.conftest import start_portal


@pytest.fixture(scope="module")
def web(tmp_path_factory, pve_server, browser):
    portal = start_portal(tmp_path_factory.mktemp("portal"), pve_server, "wsgi:app")
    yield portal
    for context in browser.contexts:
        context.close()
    portal.stop()


@pytest.fixture
def fresh_page(browser):
    """A new browser context's page; every console error or CSP violation fails the test."""
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
    assert [e for e in errors if refused_code not in e] == []  # a wrong code's page is a 400


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

"""Visit every page a user can reach from the dashboard, in Chromium, at laptop and phone size.

Each visit saves a screenshot (artifacts/screenshots/<user>-<size>/, ignored by git) and
notes what a person would notice: console errors, CSP violations, asset requests that failed,
sideways scrolling on the phone, and axe-core's serious and critical accessibility violations.

Pages of one kind (every guest page, every app in the catalog) look alike: the crawl visits
the first of each kind it finds, where a kind is the path with its numbers and names taken out.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, expect

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
SIZES = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
# Runs before any page script (Playwright injects it; the page's CSP does not apply to it).
WATCH_CSP = """window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
    window.cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`));"""
# [paths of the POST forms with an enabled submit button, titles of the disabled buttons]
OFFERS = """[
    [...document.querySelectorAll("form[method=post]")]
        .filter((f) => [...f.querySelectorAll("button[type=submit]")].some((b) => !b.disabled))
        .map((f) => new URL(f.action).pathname),
    [...document.querySelectorAll("button[disabled][title]")].map((b) => b.title),
]"""
# Pages whose kind is their path but for these segments: an app of the catalog, a node.
KINDS = [(re.compile(r"^/apps/(?!templates\b)[^/]+"), "/apps/APP"), (re.compile(r"\d+"), "N")]
NOT_PAGES = ("/static/", "/healthz", "/logout", "/dashboard/live", "/api/v1/openapi.json")


@dataclass
class Visit:
    """One page at one size, and what was wrong with it."""

    path: str
    size: str
    problems: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # where its enabled POST forms go
    unavailable: list[str] = field(default_factory=list)  # the tooltips of disabled buttons


def kind_of(link: str) -> str:
    """The link's kind of page: its path (not its query) with numbers and app names taken out."""
    path = urlsplit(link).path
    for pattern, replacement in KINDS:
        path = pattern.sub(replacement, path)
    return path


def _logged_in(browser: Browser, base: str, username: str, password: str, size: str) -> Page:
    page = browser.new_context(viewport=SIZES[size]).new_page()
    page.add_init_script(WATCH_CSP)
    page.add_init_script(AXE)  # cheaper than injecting it into each page afterwards
    page.set_default_timeout(20_000)
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")
    expect(page).to_have_url(base + "/")
    return page


def crawl(browser: Browser, base: str, username: str, password: str, size: str) -> list[Visit]:
    """Every kind of page linked from the dashboard (breadth first), as username at size."""
    shutil.rmtree(SHOTS / f"{username}-{size}", ignore_errors=True)
    page = _logged_in(browser, base, username, password, size)
    console: list[str] = []
    failed: list[str] = []
    page.on("console", lambda m: m.type == "error" and console.append(m.text))
    page.on("pageerror", lambda e: console.append(str(e)))
    # A request the next navigation cut short (ERR_ABORTED) did not fail.
    page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "")
            and failed.append(f"{r.url}: {r.failure}"))  # fmt: skip
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.url}: {r.status}"))
    queue, seen, visits = ["/"], {kind_of("/")}, []
    while queue:
        path = queue.pop(0)
        console.clear()
        failed.clear()
        response = page.goto(base + path)
        visit = Visit(path, size)
        if response is None or response.status != 200:
            visit.problems.append(f"status {response.status if response else 'none'}")
        # Fragments htmx loads after the page (a guest's addresses) are part of it.
        expect(page.locator("[hx-trigger=load]")).to_have_count(0)
        visit.problems += look_at(page, size) + console + failed
        visit.actions, visit.unavailable = page.evaluate(OFFERS)
        name = re.sub(r"[^\w.-]+", "_", path.strip("/")) or "dashboard"
        page.screenshot(path=SHOTS / f"{username}-{size}" / f"{name}.png", full_page=True)
        visits.append(visit)
        for link in linked_paths(page, base):
            if kind_of(link) not in seen:
                seen.add(kind_of(link))
                queue.append(link)
    page.context.close()
    return visits


def look_at(page: Page, size: str) -> list[str]:
    """What is wrong with the page as it stands: CSP violations, not one h1, no title of its
    own, sideways scroll on the phone, axe's serious and critical findings (which include a
    missing `lang`, unlabelled controls and too little contrast)."""
    problems = [f"CSP: {v}" for v in page.evaluate("window.cspViolations")]
    headings = page.locator("h1").count()
    if headings != 1:
        problems.append(f"{headings} h1 headings")
    if page.title().startswith("Proxmox portal ·"):
        problems.append("no title of its own")
    over = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    if size == "phone" and over > 0:
        problems.append(f"scrolls {over} px sideways")
    # The page's colours are the same at both widths: contrast (most of axe's time) is
    # checked at laptop size; every other rule at both.
    rules = {"color-contrast": {"enabled": size != "phone"}}
    found = page.evaluate(
        """async (rules) => (await axe.run(document, {resultTypes: ["violations"], rules}))
            .violations.filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `axe ${v.impact} ${v.id}: ${v.nodes.map((n) => n.target).join(" ")}`)""",
        rules,
    )
    return problems + found


def linked_paths(page: Page, base: str) -> list[str]:
    """Same-origin page links on the page, without their fragments."""
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)")
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != base or parts.path.startswith(NOT_PAGES):
            continue
        paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths

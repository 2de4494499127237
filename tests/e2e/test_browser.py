"""In a real browser: a user takes their guest through start, snapshot, stop, rollback, backup,
restore and delete, watching each task finish live; the admin sees it all in the audit log. A user
deploys a container app and a VM app from the catalog, watches them come up, opens the URL,
clones the VM app and changes the copy's memory. The dashboard refreshes itself in place; a
guest page shows its addresses. Every page, as admin and as user, at laptop and phone size, is
free of console errors, failed assets, CSP violations, serious axe-core findings and sideways
scrolling (tests/e2e/crawl.py); the phone's menu opens by keyboard; dark mode follows the system.

Chromium (Debian's, apt package `chromium`) driven by Playwright; the portal runs under
gunicorn against fakepve with the demo cluster, whose tasks take 2.5 s here.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from scripts.demo_vnc import demo_screen
from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD
from tests.e2e.conftest import start_portal
from tests.e2e.crawl import AXE, SIZES, crawl, kind_of

FAKEPVE_TIME_SCALE = 0.5  # the demo's 5-second tasks take 2.5 s: long enough to watch
GUEST = "/guests/pve3/qemu/108"  # ci-runner-2, a stopped VM in demo/cluster.json


@pytest.fixture(scope="module")
def web(tmp_path_factory, pve_server, browser):
    portal = start_portal(
        tmp_path_factory.mktemp("portal"), pve_server, "wsgi:app", job_worker=True,
        DASHBOARD_REFRESH_SECONDS="1",
    )  # fmt: skip
    yield portal
    for context in browser.contexts:  # open pages (a console) would hold gunicorn's workers
        context.close()
    portal.stop()


@pytest.fixture
def console_errors():
    """Every console error and script error of the test's pages: a CSP violation (an inline
    script or style the policy blocks) is one. The test fails if there is any."""
    errors: list[str] = []
    yield errors
    assert errors == []


def logged_in(
    browser, web, username: str, password: str, errors: list[str], viewport: dict | None = None
) -> Page:
    page = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}).new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    page.set_default_timeout(20_000)
    page.goto(web.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")
    expect(page).to_have_url(web.url + "/")
    return page


def watch_task(page: Page) -> bool:
    """On the task page until the task finishes OK; True if it ran while we watched.

    fakepve runs some tasks (snapshots, deletes) at once; those are done before the page loads.
    """
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))
    running = "Running" in page.locator("#task-poller").inner_text()
    page.evaluate("window.stillTheSamePage = true")
    expect(page.locator("#task-poller")).to_contain_text("Finished: OK")
    expect(page.locator("#task-log")).to_contain_text("TASK OK")
    assert page.evaluate("window.stillTheSamePage") is True  # htmx updated it in place
    return running


def test_user_runs_a_guest_through_its_life(browser, web, console_errors):
    admin = logged_in(browser, web, "alice", ADMIN_PASSWORD, console_errors)
    admin.goto(web.url + GUEST)
    admin.select_option("select[name=user_id]", label="bob")
    admin.click("button:has-text('Assign')")
    expect(admin.locator(".flash-success")).to_contain_text("now belongs to bob")

    user = logged_in(browser, web, "bob", USER_PASSWORD, console_errors)
    expect(user.locator("tr[data-vmid]")).to_have_count(1)
    user.click("text=ci-runner-2")
    expect(user).to_have_url(web.url + GUEST)

    user.click("button:has-text('Start')")
    assert watch_task(user), "the start task should still run when its page opens"

    user.goto(web.url + GUEST)
    user.click("text=Take a snapshot")
    user.fill("input[name=name]", "before-change")
    user.fill("textarea[name=description]", "Known good state")
    user.click("button:has-text('Take snapshot')")
    watch_task(user)

    user.goto(web.url + GUEST)
    user.click("summary:has-text('Stop…')")
    user.click("button:has-text('Stop ci-runner-2 now')")
    assert watch_task(user)

    user.goto(web.url + GUEST)
    expect(user.locator("table.snapshots")).to_contain_text("Known good state")
    user.click("summary:has-text('Roll back…')")
    user.click("button:has-text('Roll back to before-change')")
    watch_task(user)

    user.goto(web.url + GUEST)
    user.click("text=Backups")
    user.select_option("select[name=mode]", "stop")
    user.click("button:has-text('Start backup')")
    assert watch_task(user)
    user.goto(web.url + GUEST + "/backups")
    expect(user.locator("table")).to_contain_text("vzdump-qemu-108-")
    user.click("summary:has-text('Restore…')")
    user.fill("input[name=confirm_name]", "ci-runner-2")
    user.click("button:has-text('Restore over ci-runner-2')")
    assert watch_task(user), "the restore should still run when its page opens"

    user.goto(web.url + GUEST)
    user.click("summary:has-text('Delete…')")
    user.fill("input[name=confirm_name]", "ci-runner-2")
    user.click("button:has-text('Delete ci-runner-2 for good')")
    watch_task(user)
    user.click("text=Back to the dashboard")
    expect(user.locator("tr[data-vmid]")).to_have_count(0)

    admin.goto(web.url + "/audit?user=bob")
    actions = admin.locator("tbody tr td:nth-child(4)").all_inner_texts()
    assert actions == ["delete", "restore", "backup", "rollback", "stop", "snapshot", "start"]
    admin.goto(web.url + "/audit?action=assign")
    expect(admin.locator("tbody")).to_contain_text("alice")


SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl bob"


def deploy_in_browser(
    page: Page, web, app_name: str, name: str, fields: dict, runtime: str = "in a VM"
) -> None:
    page.goto(web.url + "/apps")
    page.click(f'.app-card >> text="{app_name}"')
    page.click(f"text=Deploy {app_name} {runtime}")
    page.fill("input[name=name]", name)
    for selector, value in fields.items():
        page.fill(selector, value)
    page.click("button[type=submit]:has-text('Deploy')")
    expect(page).to_have_url(re.compile(r"/my-apps/\d+$"))


def test_user_deploys_apps_and_watches_them_come_up(browser, web, console_errors):
    user = logged_in(browser, web, "bob", USER_PASSWORD, console_errors)
    deploy_in_browser(user, web, "PostgreSQL", "db", {"input[name=input_postgres_user]": "app"},
                      "as an OCI container")  # fmt: skip
    deploy_in_browser(user, web, "Gitea", "git", {"textarea[name=input_ssh_key]": SSH_KEY})
    progress = user.locator("#app-progress")
    expect(progress).to_contain_text("Deploying")
    user.evaluate("window.stillTheSamePage = true")
    expect(user.locator(".step-done")).to_have_count(5)  # started, waiting for the agent
    assert user.evaluate("window.stillTheSamePage") is True  # htmx moved the bar in place
    expect(progress).to_contain_text("Running at 127.77.", timeout=60_000)
    expect(user.locator("progress")).to_have_attribute("value", "10")  # healthy: running
    link = user.locator("a", has_text=re.compile(r"^http://127\.77\.[0-9.]+:3000/$"))
    with user.expect_popup() as opened:  # the demo's stand-in for the app answers
        link.click()
    expect(opened.value.locator("h1")).to_have_text("Gitea")

    # The VM app is cloned with its configuration, and the copy's memory changed.
    user.click("summary:has-text('Clone…')")
    user.fill("input[name=name]", "git-copy")
    user.click("button:has-text('Clone git')")
    expect(user).to_have_url(re.compile(r"/my-apps/\d+$"))
    expect(user.locator("#app-progress")).to_contain_text("Running at 127.77.", timeout=60_000)
    expect(user.locator("#app-facts a", has_text="git")).to_have_attribute(
        "href", re.compile(r"/my-apps/\d+")
    )
    user.click("text=Guest page")
    user.click("a:has-text('Settings')")
    expect(user.locator("input[name=memory]")).to_have_value("2048")
    user.fill("input[name=memory]", "3072")
    user.click("button:has-text('Save')")
    expect(user.locator(".flash-success")).to_contain_text("Saved: memory")
    expect(user.locator("section[aria-label='Pending changes']")).to_contain_text("2048 → 3072")

    user.goto(web.url + "/my-apps")
    rows = user.locator("table.apps tbody tr")
    expect(rows).to_have_count(3)
    user.click("text=db")
    expect(user.locator("#app-progress")).to_contain_text("Running at 127.77.", timeout=60_000)
    expect(user.locator("dl.facts").first).to_contain_text("Connection")


RUNNING_VM = "/guests/pve1/qemu/100"  # web-frontend; the first test deletes GUEST
USER_VM = "/guests/pve1/qemu/118"  # staging-app: running, with a serial port
USER_CT = "/guests/pve1/lxc/205"  # redis: running


def test_a_live_dashboard_keeps_its_filters_and_focus_and_rests_when_hidden(
    browser, web, console_errors
):
    watcher = logged_in(browser, web, "alice", ADMIN_PASSWORD, console_errors)
    watcher.goto(web.url + "/?node=pve3&type=qemu&sort=name&order=desc")
    row = watcher.locator("tr[data-vmid='117']")  # k8s-worker-2, stopped
    expect(row.locator(".badge")).to_have_text("stopped")
    watcher.focus("#guest-117")
    watcher.evaluate("window.stillTheSamePage = true")
    other = logged_in(browser, web, "alice", ADMIN_PASSWORD, console_errors)
    other.goto(web.url + "/guests/pve3/qemu/117")
    other.click("button:has-text('Start')")
    watch_task(other)
    expect(row.locator(".badge")).to_have_text("running")  # refreshed in place
    assert watcher.evaluate("window.stillTheSamePage") is True
    assert watcher.evaluate("document.activeElement.id") == "guest-117"
    names = watcher.locator("#guest-list td:nth-child(2) a").all_inner_texts()
    assert names == sorted(names, reverse=True) and len(names) > 1  # still pve3's VMs, Z to A
    assert watcher.locator("#guest-list td:nth-child(4)").all_inner_texts() == ["pve3"] * len(names)
    # A hidden tab asks for nothing; shown again, it refreshes at once.
    refreshes = []
    watcher.on("request", lambda r: "/dashboard/live" in r.url and refreshes.append(r.url))
    watcher.evaluate("""() => {
        Object.defineProperty(document, "hidden", {value: true, configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""")
    watcher.wait_for_timeout(1800)  # the refresh comes every second
    assert refreshes == []
    watcher.evaluate("""() => {
        Object.defineProperty(document, "hidden", {value: false, configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""")
    watcher.wait_for_timeout(300)
    assert refreshes and "node=pve3" in refreshes[0] and "order=desc" in refreshes[0]


@pytest.mark.parametrize("username, password", [("alice", ADMIN_PASSWORD), ("bob", USER_PASSWORD)])
def test_every_page_at_both_sizes_is_clean(browser, web, username, password):
    """The crawl (tests/e2e/crawl.py): no console error, failed asset, CSP violation, serious
    axe violation, or sideways scroll on the phone; screenshots in artifacts/screenshots/."""
    for size in SIZES:
        visits = crawl(browser, web.url, username, password, size)
        assert len(visits) > 12, [v.path for v in visits]
        assert {v.path: v.problems for v in visits if v.problems} == {}
        kinds = {kind_of(v.path) for v in visits}
        assert {"/guests/pveN/qemu/N", "/my-apps/N", "/tasks/N", "/apps/APP/deploy"} <= kinds


def test_focus_shows_and_on_a_phone_the_menu_works_by_keyboard(browser, web, console_errors):
    page = logged_in(browser, web, "alice", ADMIN_PASSWORD, console_errors, SIZES["phone"])
    expect(page.locator(".nav-wide")).to_be_hidden()
    page.keyboard.press("Tab")  # the brand, with a focus ring anyone can see
    ring = page.evaluate("getComputedStyle(document.activeElement).outline")
    assert "solid" in ring and "2px" in ring, ring
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # Dashboard, then Apps
    page.keyboard.press("Enter")
    expect(page).to_have_url(web.url + "/apps")


QUARTERS = """() => {
    const canvas = document.querySelector("#console-screen canvas");
    const { width, height } = canvas;
    const pixel = (x, y) => canvas.getContext("2d").getImageData(x, y, 1, 1).data.slice(0, 3);
    return [[1, 1], [3, 1], [1, 3], [3, 3]].map(([x, y]) =>
        Array.from(pixel(Math.floor(x * width / 4), Math.floor(y * height / 4))));
}"""


# The demo VM's screen draws a white block on its bottom line for each key typed (demo_vnc).
TYPED_BLOCKS = """() => {
    const canvas = document.querySelector("#console-screen canvas");
    const context = canvas.getContext("2d");
    const white = (x) => Array.from(context.getImageData(x, canvas.height - 9, 1, 1).data
        .slice(0, 3)).every((value) => value === 255);
    let count = 0;
    while (white(count * 8 + 3)) count++;
    return count;
}"""


def assign_to_bob(admin: Page, web, path: str) -> None:
    admin.goto(web.url + path)
    admin.select_option("select[name=user_id]", label="bob")
    admin.click("button:has-text('Assign')")
    expect(admin.locator(".flash-success")).to_contain_text("now belongs to bob")


def expect_blocks(page: Page, count: int) -> None:
    for _ in range(50):
        if page.evaluate(TYPED_BLOCKS) == count:
            return
        page.wait_for_timeout(100)
    assert page.evaluate(TYPED_BLOCKS) == count


def test_a_user_works_in_the_console_and_terminals_of_their_own_guests_only(
    browser, web, console_errors
):
    admin = logged_in(browser, web, "alice", ADMIN_PASSWORD, console_errors)
    for path in (USER_VM, USER_CT):
        assign_to_bob(admin, web, path)
    admin.context.close()
    page = logged_in(browser, web, "bob", USER_PASSWORD, console_errors)
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))

    # The VM's screen, pixel for pixel: fakepve sends blue, green, red for the configured RGB.
    page.goto(web.url + USER_VM)
    page.click("a:has-text('Console')")
    screen = page.locator("#console-screen")
    expect(screen).to_have_attribute("data-connected", "true")
    width, height, rgb = demo_screen(118)
    corners = [0, width // 2, (height // 2) * width, (height // 2) * width + width // 2]
    expected = [[rgb[3 * i + 2], rgb[3 * i + 1], rgb[3 * i]] for i in corners]
    for _ in range(50):
        if page.evaluate(QUARTERS) == expected:
            break
        page.wait_for_timeout(200)
    assert page.evaluate(QUARTERS) == expected

    # Keys, then text typed through the paste box: one block on the guest's screen per key.
    page.locator("#console-screen canvas").click()
    page.keyboard.type("ab")
    expect_blocks(page, 2)
    page.fill("#console-text", "xyz")
    page.click("button:has-text('Type it')")
    expect_blocks(page, 5)

    # Scaling: fitted to the window, then the guest's own size.
    canvas = page.locator("#console-screen canvas")
    assert canvas.evaluate("c => c.clientWidth") > width
    page.click("button:has-text('Fit to window')")
    expect(page.locator("[data-console=scale]")).to_have_attribute("aria-pressed", "false")
    assert canvas.evaluate("c => c.clientWidth") == width
    page.click("button:has-text('Full screen')")
    page.wait_for_function("document.fullscreenElement?.id === 'console-screen'")
    page.evaluate("document.exitFullscreen()")

    # Reconnect opens a new console on the same guest: what was typed is still on its screen.
    page.click("button:has-text('Reconnect')")
    expect(screen).to_have_attribute("data-connected", "true")
    expect_blocks(page, 5)
    page.click("button:has-text('Ctrl-Alt-Del')")
    expect_blocks(page, 0)

    # The VM's serial port, and the container's terminal: typing echoes; a resize is sent.
    for path in (USER_VM, USER_CT):
        page.goto(web.url + path)
        page.click("a:has-text('Terminal')")
        expect(page.locator("#console-terminal")).to_have_attribute("data-connected", "true")
        page.keyboard.type(f"hello-{path[-3:]}")
        expect(page.locator("#console-terminal .xterm-rows")).to_contain_text(f"hello-{path[-3:]}")

    def columns_sent() -> list[int]:  # termproxy's resize messages: "1:<cols>:<rows>:"
        return [int(f.split(":")[1]) for f in sent if re.fullmatch(r"1:\d+:\d+:", f)]

    before = columns_sent()
    page.set_viewport_size({"width": 640, "height": 700})
    for _ in range(30):
        if len(columns_sent()) > len(before):
            break
        page.wait_for_timeout(100)
    assert columns_sent()[-1] < before[-1], (before, columns_sent())

    # Someone else's guest: no console page, no terminal.
    for kind in ("screen", "terminal"):
        assert page.request.get(web.url + RUNNING_VM + f"/console/{kind}").status == 404


def test_a_guest_page_shows_its_addresses(browser, web, console_errors):
    page = logged_in(browser, web, "alice", ADMIN_PASSWORD, console_errors)
    page.goto(web.url + RUNNING_VM)  # its agent runs in the demo cluster
    expect(page.locator("#guest-addresses")).to_contain_text("127.77.0.100/8")
    page.goto(web.url + "/guests/pve2/qemu/107")  # ci-runner-1: no agent
    expect(page.locator("#guest-addresses")).to_contain_text("Agent not running")


def brightness(css_color: str) -> float:
    """0 (black) to 255 (white), from a computed `rgb(...)` or `rgba(...)` colour."""
    red, green, blue = (float(v) for v in re.findall(r"[\d.]+", css_color)[:3])
    return 0.299 * red + 0.587 * green + 0.114 * blue


def test_dark_mode_follows_the_system_and_keeps_the_charts_readable(browser, web, console_errors):
    for scheme, dark in (("light", False), ("dark", True)):
        page = browser.new_context(color_scheme=scheme).new_page()
        page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
        page.goto(web.url + "/login")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.press("input[name=password]", "Enter")
        page.goto(web.url + RUNNING_VM)
        style = (
            "([selector, property]) => getComputedStyle(document.querySelector(selector))[property]"
        )
        background = brightness(page.evaluate(style, ["html", "backgroundColor"]))
        text = brightness(page.evaluate(style, ["html", "color"]))
        label = brightness(page.evaluate(style, ["figure.chart .label", "fill"]))
        badge = brightness(page.evaluate(style, [".badge-running", "backgroundColor"]))
        assert (background < 80) is dark, scheme
        assert abs(text - background) > 120 and abs(label - background) > 70, scheme
        assert (badge < 100) is dark, scheme  # a light badge would glare on a dark page
        page.evaluate(AXE)  # and axe-core finds enough contrast everywhere in both schemes
        contrast = page.evaluate(
            """async () => (await axe.run(document, {runOnly: ["color-contrast"]})).violations
                .flatMap((v) => v.nodes.map((n) => n.target.join(" ")))"""
        )
        assert contrast == [], scheme
        page.context.close()

"""Each error class reaches a real Bugsink exactly once from the portal under gunicorn.

One scenario, in order: as a logged-in admin and user, provoke every error class over HTTP,
plus pages that must not report; stop gunicorn; then read everything back from Bugsink's API.
"""

import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.conftest import ADMIN_PASSWORD, SECRETS, USER_PASSWORD, csrf_token_in
from tests.e2e.conftest import SECRET_KEY

QUERY_SECRET = "hunter2-in-the-query"


def reference_in(response: requests.Response) -> str:
    """The error reference (Sentry event id) the error page shows."""
    match = re.search(r"<code[^>]*>([0-9a-f]{32})</code>", response.text)
    assert match, f"no error reference on the {response.status_code} page"
    return match.group(1)


def failed_deploy(portal, session: requests.Session) -> tuple[str, str]:
    """Deploy the catalog's agentless app; (its error reference, its page) once it failed."""
    form_url = portal.url + "/apps/agentless/deploy"
    token = csrf_token_in(session.get(form_url).text)
    form = {
        "csrf_token": token,
        "request_key": uuid.uuid4().hex,
        "name": "no-agent",
        "node": "auto",
        "storage": "local-lvm",
        "cores": "1",
        "memory": "512",
        "disk": "16",
    }
    response = session.post(form_url, data=form, allow_redirects=False)
    assert response.status_code == 302, response.text
    page_url = portal.url + response.headers["Location"]
    deadline = time.monotonic() + 60
    while "Failed at" not in (page := session.get(page_url).text):
        assert time.monotonic() < deadline, "the deploy did not fail in time"
        time.sleep(0.5)
    match = re.search(r"error reference ([0-9a-f]{32})", page)
    assert match, page
    return match.group(1), page


def test_every_error_class_reaches_bugsink_once(portal, bugsink):
    admin = portal.session("alice", ADMIN_PASSWORD)
    user = portal.session("bob", USER_PASSWORD)
    expected = {}  # event id -> (error_type, username)

    # Pages that work or refuse politely report nothing.
    assert admin.get(portal.url + "/").status_code == 200
    assert admin.get(portal.url + "/no-such-page").status_code == 404
    assert user.get(portal.url + "/admin/users").status_code == 403

    response = admin.get(portal.url + "/e2e/proxmox")
    assert response.status_code == 502
    expected[reference_in(response)] = ("proxmox", "alice")

    response = user.get(portal.url + "/e2e/service")
    assert response.status_code == 409
    expected[reference_in(response)] = ("app_service", "bob")

    response = admin.get(portal.url + "/e2e/unavailable", headers={"Accept": "application/json"})
    assert response.status_code == 503
    expected[response.json()["reference"]] = (None, "alice")

    # Every worker must report. A threaded worker can take several requests at once, so pairs
    # of slow requests on fresh connections go on until each worker has answered one.
    url = portal.url + f"/e2e/unhandled?delay=0.5&password={QUERY_SECRET}"
    fresh = {"Connection": "close"}
    answered: set[int] = set()
    with ThreadPoolExecutor(2) as pool:
        for _ in range(20):
            for response in pool.map(lambda _: admin.get(url, headers=fresh), range(2)):
                assert response.status_code == 500
                expected[reference_in(response)] = ("unhandled", "alice")
                answered.add(int(response.headers["X-Worker-Pid"]))
            if answered == portal.worker_pids:
                break

    # A deploy that fails in the job worker: reported once, for the user who started it.
    deploy_ref, deploy_page = failed_deploy(portal, user)

    # bob hits his quota: a form error with its reference, one app_service event.
    users_page = admin.get(portal.url + "/admin/users").text
    bob_id = re.search(r'href="/admin/users/(\d+)">bob<', users_page).group(1)
    bob_url = portal.url + f"/admin/users/{bob_id}"
    token = csrf_token_in(admin.get(bob_url).text)
    response = admin.post(bob_url, data={"csrf_token": token, "guests": "0"})
    assert response.status_code == 200 and "Quota of bob saved." in response.text
    form_url = portal.url + "/apps/agentless/deploy"
    form = {"csrf_token": csrf_token_in(user.get(form_url).text), "request_key": uuid.uuid4().hex,
            "name": "over-quota", "node": "auto", "storage": "local-lvm", "cores": "1",
            "memory": "512", "disk": "16"}  # fmt: skip
    response = user.post(form_url, data=form)
    assert response.status_code == 400 and "goes over your guests quota" in response.text
    quota_ref = re.search(r"error reference ([0-9a-f]{32})", response.text).group(1)
    expected[quota_ref] = ("app_service", "bob")

    # Anonymous, then stop gunicorn at once: the worker flushes this event on its way out.
    response = requests.get(portal.url + "/e2e/unhandled")
    expected[reference_in(response)] = ("unhandled", None)
    portal.stop()
    assert "Traceback" not in portal.log.split("Shutting down")[-1]

    events = bugsink.wait_for_events(len(expected) + 1)
    by_id = {event["event_id"].replace("-", ""): event["data"] for event in events}
    assert sorted(by_id) == sorted([*expected, deploy_ref]), "each error must arrive once"

    deploy = by_id.pop(deploy_ref)  # a job's event: no request, checked here
    assert deploy["tags"]["error_type"] == "app_service" and deploy["user"]["username"] == "bob"
    assert deploy["tags"]["user_role"] == "user" and deploy["tags"]["deploy_step"] == "wait"
    context = deploy["contexts"]["app_deploy"]
    assert context["catalog_id"] == "agentless" and context["step"] == "wait"
    assert context["vmid"] and context["node"] == "pve3"
    crumbs = [c["message"] for c in deploy["breadcrumbs"]["values"] if c["category"] == "deploy"]
    assert crumbs[-1] == "wait started"
    assert "The half-made guest was removed." in deploy_page

    for event_id, (error_type, username) in expected.items():
        event = by_id[event_id]
        tags = event["tags"]
        assert tags.get("error_type") == error_type, event_id
        assert event["environment"] == "development"
        assert event["release"] == portal.release
        assert event["contexts"]["app"]["version"]
        assert event["contexts"]["proxmox"]["auth_method"] == "token"
        assert event["contexts"]["proxmox"]["host"] == "127.0.0.1"
        assert event["contexts"]["database"] == {"scheme": "sqlite"}
        if username:
            assert tags["authenticated"] == "true"
            assert event["user"]["username"] == username
            assert event["user"]["ip_address"] == "127.0.0.1"
            assert tags["user_role"] == {"alice": "admin", "bob": "user"}[username]
        else:
            assert tags["authenticated"] == "false"
            assert "user" not in event or not event["user"].get("username")

    proxmox = next(e for i, e in by_id.items() if expected[i][0] == "proxmox")
    context = proxmox["contexts"]["proxmox_error"]
    assert context["node"] == "pve1" and context["vmid"] == 999999
    assert context["api_path"] == "/nodes/pve1/qemu/999999/status/current"
    service = by_id[next(i for i in expected if i != quota_ref and expected[i][0] == "app_service")]
    assert service["contexts"]["app_service_error"]["quota"] == 3
    quota = by_id[quota_ref]["contexts"]["app_service_error"]
    assert (quota["quota"], quota["limit"], quota["operation"]) == ("guests", 0, "deploy")
    unavailable = next(e for i, e in by_id.items() if expected[i][0] is None)
    assert unavailable["tags"]["status_code"] == "503"

    # Every worker reports: the unhandled failures came from every gunicorn worker.
    unhandled = [e for i, e in by_id.items() if expected[i] == ("unhandled", "alice")]
    pids = {int(e["contexts"]["unhandled_error"]["attributes"]["worker_pid"]) for e in unhandled}
    assert pids == answered == portal.worker_pids
    assert unhandled[0]["contexts"]["unhandled_error"]["query_params"]["delay"] == ["0.5"]

    # The secret sweep, over what the real server stored.
    stored = json.dumps(events)
    for secret in [*SECRETS, SECRET_KEY, QUERY_SECRET]:
        assert secret not in stored, f"a secret ({secret[:4]}...) reached Bugsink"

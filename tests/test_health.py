"""/healthz: 200 when the database and Proxmox answer, 503 otherwise; Proxmox from a probe
made at most once per PROBE_INTERVAL per process."""

import threading
import time

from app.services.health import PROBE_INTERVAL

KEYS = {"status", "database", "proxmox", "proxmox_checked_seconds_ago", "version"}


def version_calls(pve) -> int:
    return sum(1 for method, path, _ in pve.requests if path.endswith("/version"))


def test_healthy(client, app):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "database": "ok",
        "proxmox": "ok",
        "proxmox_checked_seconds_ago": 0.0,
        "version": app.config["APP_VERSION"],
    }


def test_proxmox_is_probed_at_most_once_per_interval(client, pve, monkeypatch):
    for _ in range(20):
        assert client.get("/healthz").status_code == 200
    assert version_calls(pve) == 1
    assert client.get("/healthz").json["proxmox_checked_seconds_ago"] >= 0
    later = time.monotonic() + PROBE_INTERVAL + 0.1
    monkeypatch.setattr("app.services.health.time.monotonic", lambda: later)
    client.get("/healthz")
    assert version_calls(pve) == 2


def test_a_hanging_proxmox_holds_up_one_request_not_all(make_app, pve):
    app = make_app(PROXMOX_TIMEOUT=2)
    pve.flaky_network(hang_rate=1.0, hang_secs=5)
    results = []

    def probe():
        results.append(app.test_client().get("/healthz").json["proxmox"])

    slow = threading.Thread(target=probe)
    slow.start()
    time.sleep(0.3)  # the first request is now waiting for Proxmox
    started = time.monotonic()
    quick = app.test_client().get("/healthz")
    assert time.monotonic() - started < 1.0
    assert quick.json["proxmox"] == "error"  # no probe has finished yet
    slow.join()
    assert results == ["error"]  # the one request that asked Proxmox waited for its timeout


def test_proxmox_down(make_app, pve):
    pve.fail("GET", "/version", status=500, message="boom")
    response = make_app().test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["proxmox"] == "error" and response.json["database"] == "ok"


def pve_address_absent(body: bytes) -> bool:
    return b"127.0.0.1" not in body and b"root@pam" not in body


def test_wrong_token_is_unhealthy_and_leaks_nothing(make_app):
    response = make_app(PROXMOX_TOKEN_VALUE="wrong-secret-value").test_client().get("/healthz")
    assert response.status_code == 503
    assert b"wrong-secret-value" not in response.data
    assert set(response.json) == KEYS
    assert pve_address_absent(response.data)


def test_database_down(app, tmp_path):
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()
    database = tmp_path / "portal.sqlite"
    database.unlink()
    database.mkdir()  # a directory where the database file was: SQLite cannot open it
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {**response.json, "database": "error", "proxmox": "ok"}

"""/healthz: 200 when the database and Proxmox answer, 503 otherwise."""


def test_healthy(client, app):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "database": "ok",
        "proxmox": "ok",
        "version": app.config["APP_VERSION"],
    }


def test_proxmox_down(make_app, pve):
    pve.fail("GET", "/version", status=500, message="boom")
    response = make_app().test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["proxmox"] == "error" and response.json["database"] == "ok"


def test_wrong_token_is_unhealthy_and_leaks_nothing(make_app):
    response = make_app(PROXMOX_TOKEN_VALUE="wrong-secret-value").test_client().get("/healthz")
    assert response.status_code == 503
    assert b"wrong-secret-value" not in response.data
    assert set(response.json) == {"status", "database", "proxmox", "version"}


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

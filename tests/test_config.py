"""The factory and configuration."""

import os

import pytest

from app import config, create_app


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app({"SECRET_KEY": None})


def test_testing_app_gets_a_random_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"SECRET_KEY": None, "TESTING": True})
    assert len(app.config["SECRET_KEY"]) == 64


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("PROXMOX_HOST", "pve.example.test:8443")
    monkeypatch.setenv("PROXMOX_TIMEOUT", "3")
    monkeypatch.setenv("PROXMOX_VERIFY_SSL", "false")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example.test/portal")
    monkeypatch.setenv("APP_VERSION", "9.9.9")
    settings = config.from_environment()
    assert (settings["PROXMOX_HOST"], settings["PROXMOX_PORT"]) == ("pve.example.test", 8443)
    assert settings["PROXMOX_TIMEOUT"] == 3
    assert settings["PROXMOX_VERIFY_SSL"] is False
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example.test/portal"
    assert settings["APP_VERSION"] == "9.9.9"


def test_defaults(monkeypatch):
    for name in ("PROXMOX_PORT", "PROXMOX_TIMEOUT", "PROXMOX_VERIFY_SSL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROXMOX_HOST", "pve.example.test")
    settings = config.from_environment()
    assert settings["PROXMOX_PORT"] == 8006
    assert settings["PROXMOX_TIMEOUT"] == 10
    assert settings["PROXMOX_VERIFY_SSL"] is True
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert settings["SQLALCHEMY_DATABASE_URI"].endswith("instance/portal.sqlite")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("", True),
        ("FALSE", False),
        ("0", False),
        ("/etc/pve/ca.pem", "/etc/pve/ca.pem"),
    ],
)
def test_verify_ssl_values(value, expected):
    assert config.parse_verify_ssl(value) == expected


def test_bad_numbers_are_reported_by_name(monkeypatch):
    monkeypatch.setenv("PROXMOX_TIMEOUT", "ten")
    with pytest.raises(ValueError, match="PROXMOX_TIMEOUT must be a whole number"):
        config.from_environment()


def test_deploy_settings_from_the_environment_and_their_defaults(monkeypatch):
    assert config.from_environment()["DEPLOY_LEASE_SECONDS"] == 60.0
    assert config.from_environment()["DEPLOY_BRIDGE"] == "vmbr0"
    monkeypatch.setenv("DEPLOY_POLL_SECONDS", "0.5")
    monkeypatch.setenv("DEPLOY_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("DEPLOY_BRIDGE", "vmbr1")
    settings = config.from_environment()
    assert (settings["DEPLOY_POLL_SECONDS"], settings["DEPLOY_MAX_ATTEMPTS"]) == (0.5, 5)
    assert settings["DEPLOY_BRIDGE"] == "vmbr1"
    for bad in ("soon", "0", "-3"):
        monkeypatch.setenv("DEPLOY_BOOT_TIMEOUT", bad)
        with pytest.raises(ValueError, match="DEPLOY_BOOT_TIMEOUT must be"):
            config.from_environment()


def test_dotenv_file_is_loaded_without_overriding_the_environment(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("PORTAL_TEST_A=from-file\nPORTAL_TEST_B=from-file\n")
    monkeypatch.setattr(config, "DOTENV_PATH", tmp_path / ".env")
    monkeypatch.setenv("PORTAL_TEST_B", "from-env")
    monkeypatch.delenv("PORTAL_TEST_A", raising=False)
    config.load_dotenv_file()
    assert os.environ["PORTAL_TEST_A"] == "from-file"
    assert os.environ["PORTAL_TEST_B"] == "from-env"
    monkeypatch.delenv("PORTAL_TEST_A")


def test_factory_registers_every_blueprint(app):
    import importlib
    import pkgutil

    import app as package

    blueprints = set()
    for module in pkgutil.iter_modules(package.__path__):
        bp = getattr(importlib.import_module(f"app.{module.name}"), "bp", None)
        if bp is not None:
            blueprints.add(bp.name)
    assert len(blueprints) >= 7
    assert blueprints == set(app.blueprints)


@pytest.mark.parametrize("value", ["lots", "1.5", "-0.1"])
def test_bad_traces_sample_rate_is_reported_by_name(monkeypatch, value):
    monkeypatch.setenv("SENTRY_TRACES_SAMPLE_RATE", value)
    with pytest.raises(ValueError, match="SENTRY_TRACES_SAMPLE_RATE must be"):
        config.from_environment()


@pytest.mark.parametrize(("value", "message"), [("many", "a whole number"), ("-1", "0 or more")])
def test_bad_traces_budget_is_reported_by_name(monkeypatch, value, message):
    monkeypatch.setenv("SENTRY_TRACES_PER_MINUTE", value)
    with pytest.raises(ValueError, match=f"SENTRY_TRACES_PER_MINUTE must be {message}"):
        config.from_environment()


def test_sentry_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("SENTRY_TRACES_SAMPLE_RATE", "0.25")
    monkeypatch.setenv("SENTRY_TRACES_PER_MINUTE", "120")
    monkeypatch.setenv("SENTRY_SEND_USER_PII", "false")
    monkeypatch.setenv("SENTRY_DEBUG", "")
    settings = config.from_environment()
    assert settings["SENTRY_TRACES_SAMPLE_RATE"] == 0.25
    assert settings["SENTRY_TRACES_PER_MINUTE"] == 120
    assert settings["SENTRY_SEND_USER_PII"] is False
    assert settings["SENTRY_DEBUG"] is None

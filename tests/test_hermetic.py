"""The suite ignores the caller's environment and .env: run a few tests whose outcome those
settings would change, in a child pytest whose environment (and .env) sets them all."""

import os
import subprocess
import sys

from app import config

# Each of these tests fails if the matching setting below reached its app.
SENSITIVE_TESTS = [
    "tests/observability/test_init.py::test_ip_address_arrives_with_pii_on",
    "tests/observability/test_init.py::test_no_dsn_means_no_sentry",
    "tests/auth/test_login_limits.py::test_failed_logins_lock_the_account_for_that_address_only",
    "tests/test_hermetic.py::test_the_suite_starts_with_no_portal_settings",
]
HOSTILE_SETTINGS = {
    "SENTRY_SEND_USER_PII": "false",
    "SENTRY_DSN": "http://public@127.0.0.9:1/1",
    "LOGIN_ADDRESS_RATE_LIMIT": "1 per hour",
    "PROXMOX_HOST": "127.0.0.9",
    "DATABASE_URL": "postgresql://nobody@127.0.0.9:1/nowhere",
}


def test_the_suite_ignores_the_callers_environment_and_dotenv():
    dotenv = config.PROJECT_ROOT / ".env"
    made_dotenv = not dotenv.exists()  # a developer's own .env is left as it is
    if made_dotenv:
        dotenv.write_text("".join(f"{k}={v}\n" for k, v in HOSTILE_SETTINGS.items()))
    try:
        child = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SENSITIVE_TESTS],
            cwd=config.PROJECT_ROOT,
            env={**os.environ, **HOSTILE_SETTINGS},
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        if made_dotenv:
            dotenv.unlink()
    assert child.returncode == 0, child.stdout[-3000:] + child.stderr[-2000:]
    assert f"{len(SENSITIVE_TESTS)} passed" in child.stdout


def test_the_sensitive_tests_do_depend_on_those_settings(monkeypatch):
    # Without the conftest's protection the same settings reach the app's config.
    for name, value in HOSTILE_SETTINGS.items():
        monkeypatch.setenv(name, value)
    settings = config.from_environment()
    assert settings["SENTRY_SEND_USER_PII"] is False
    assert settings["SENTRY_DSN"] == HOSTILE_SETTINGS["SENTRY_DSN"]
    assert settings["LOGIN_ADDRESS_RATE_LIMIT"] == "1 per hour"
    assert settings["PROXMOX_HOST"] == "127.0.0.9"


def test_the_suite_starts_with_no_portal_settings():
    settings = config.from_environment()
    assert settings["PROXMOX_HOST"] == "" and settings["SENTRY_DSN"] is None
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert settings["LOGIN_ADDRESS_RATE_LIMIT"] == "20 per 10 minutes"
    assert config.DOTENV_PATH is None

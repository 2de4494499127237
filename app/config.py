"""Settings from the environment and from `.env` (loaded explicitly by `load_dotenv_file`)."""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import load_dotenv
from limits import parse as parse_limit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = PROJECT_ROOT / "instance"
# The test suite sets this to None: a developer's .env must not change what tests see.
DOTENV_PATH: Path | None = PROJECT_ROOT / ".env"


DEBIAN_CLOUD = "https://cloud.debian.org/images/cloud/trixie/latest"
DEBIAN_IMAGE = "debian-13-genericcloud-amd64.qcow2"


def load_dotenv_file() -> None:
    """Load DOTENV_PATH (PROJECT_ROOT/.env) into os.environ; variables already set win.

    gunicorn does not read `.env`, so the factory calls this itself.
    """
    if DOTENV_PATH is not None:
        load_dotenv(DOTENV_PATH, override=False)


def env_bool(name: str, default: bool | None) -> bool | None:
    """Read a true/false variable; accepts 1/0, true/false, yes/no, on/off."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def parse_verify_ssl(value: str | None) -> bool | str:
    """PROXMOX_VERIFY_SSL: `true` (default), `false`, or a path to a CA bundle."""
    if value is None or value.strip().lower() in ("", "1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("0", "false", "no", "off"):
        return False
    return value.strip()


def split_host_port(host: str, default_port: int) -> tuple[str, int]:
    """`pve.example.com:8006` -> (`pve.example.com`, 8006); a bare host keeps default_port."""
    host = host.strip()
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        if not port.isdigit():
            raise ValueError(f"PROXMOX_HOST has a port that is not a number: {host!r}")
        return name, int(port)
    return host, default_port


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way (`postgres://`, `postgresql://`)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None


def _count(name: str, default: int) -> int:
    """A whole number, 0 or more."""
    count = _int(name, default)
    if count < 0:
        raise ValueError(f"{name} must be 0 or more, not {count}")
    return count


def _float(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        rate = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number between 0 and 1, not {value!r}") from None
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
    return rate


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {value!r}") from None
    if seconds <= 0:
        raise ValueError(f"{name} must be more than 0 seconds, not {value!r}")
    return seconds


def _limit(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    try:
        parse_limit(value)
    except ValueError:
        raise ValueError(f"{name} must read like '5 per 10 minutes', not {value!r}") from None
    return value


def jobs_url() -> str:
    """JOBS_URL: where the job queue lives, `sqlite:///path` (a file under instance/ by
    default) or `redis://host:port/db`. Read when app.jobs is imported (before any app
    exists: the queue's decorators need it), after loading .env."""
    load_dotenv_file()
    return os.environ.get("JOBS_URL") or f"sqlite:///{INSTANCE_PATH / 'jobs.sqlite'}"


def from_environment() -> dict:
    """All settings as a dict for `app.config.update`."""
    default_db = f"sqlite:///{INSTANCE_PATH / 'portal.sqlite'}"
    proxmox_host, proxmox_port = split_host_port(
        os.environ.get("PROXMOX_HOST", ""), _int("PROXMOX_PORT", 8006)
    )
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "APP_VERSION": os.environ.get("APP_VERSION", "0.1.0"),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            os.environ.get("DATABASE_URL") or default_db
        ),
        "PROXMOX_HOST": proxmox_host,
        "PROXMOX_PORT": proxmox_port,
        "PROXMOX_USER": os.environ.get("PROXMOX_USER", ""),
        "PROXMOX_TOKEN_NAME": os.environ.get("PROXMOX_TOKEN_NAME") or None,
        "PROXMOX_TOKEN_VALUE": os.environ.get("PROXMOX_TOKEN_VALUE") or None,
        "PROXMOX_PASSWORD": os.environ.get("PROXMOX_PASSWORD") or None,
        "PROXMOX_VERIFY_SSL": parse_verify_ssl(os.environ.get("PROXMOX_VERIFY_SSL")),
        "PROXMOX_TIMEOUT": _int("PROXMOX_TIMEOUT", 10),
        "PERMISSIONS_CACHE_SECONDS": _seconds("PERMISSIONS_CACHE_SECONDS", 60.0),
        "GUEST_AGENT_TIMEOUT": _seconds("GUEST_AGENT_TIMEOUT", 3.0),
        "DASHBOARD_REFRESH_SECONDS": _int("DASHBOARD_REFRESH_SECONDS", 5),
        "CONSOLE_IDLE_SECONDS": _seconds("CONSOLE_IDLE_SECONDS", 900.0),
        "CONSOLE_MAX_SECONDS": _seconds("CONSOLE_MAX_SECONDS", 8 * 3600.0),
        "CONSOLES_PER_USER": _int("CONSOLES_PER_USER", 4),
        # Each open console holds a gunicorn thread: keep 4 of each worker's for pages.
        "CONSOLES_PER_WORKER": _int(
            "CONSOLES_PER_WORKER", max(1, _int("GUNICORN_THREADS", 16) - 4)
        ),
        "CONSOLE_MAX_MESSAGE_BYTES": _int("CONSOLE_MAX_MESSAGE_BYTES", 1024 * 1024),
        "LOGIN_RATE_LIMIT": _limit("LOGIN_RATE_LIMIT", "5 per 10 minutes"),
        # Admins must turn two-factor sign-in on before anything else.
        "REQUIRE_2FA_FOR_ADMINS": env_bool("REQUIRE_2FA_FOR_ADMINS", False),
        # Single sign-on with an OpenID provider (docs/SECURITY.md); off without OIDC_ISSUER.
        "OIDC_ISSUER": os.environ.get("OIDC_ISSUER", "").strip().rstrip("/") or None,
        "OIDC_CLIENT_ID": os.environ.get("OIDC_CLIENT_ID") or None,
        "OIDC_CLIENT_SECRET": os.environ.get("OIDC_CLIENT_SECRET") or None,
        "OIDC_NAME": os.environ.get("OIDC_NAME") or "single sign-on",
        "OIDC_SCOPES": os.environ.get("OIDC_SCOPES") or "openid email profile",
        "OIDC_ADMIN_CLAIM": os.environ.get("OIDC_ADMIN_CLAIM") or "groups",
        "OIDC_ADMIN_VALUE": os.environ.get("OIDC_ADMIN_VALUE") or None,
        "PASSWORD_LOGIN": env_bool("PASSWORD_LOGIN", True),
        "LOGIN_ADDRESS_RATE_LIMIT": _limit("LOGIN_ADDRESS_RATE_LIMIT", "20 per 10 minutes"),
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 1024 * 1024),
        "API_RATE_LIMIT": _limit("API_RATE_LIMIT", "300 per minute"),  # per token
        "API_TOKEN_DAYS": _int("API_TOKEN_DAYS", 90),  # a new token's expiry, by default
        "API_TOKEN_MAX_DAYS": _int("API_TOKEN_MAX_DAYS", 366),
        "CATALOG_DIR": os.environ.get("CATALOG_DIR") or str(PROJECT_ROOT / "catalog"),
        "DEPLOY_BRIDGE": os.environ.get("DEPLOY_BRIDGE") or "vmbr0",
        "DEPLOY_POLL_SECONDS": _seconds("DEPLOY_POLL_SECONDS", 1.0),
        "DEPLOY_LEASE_SECONDS": _seconds("DEPLOY_LEASE_SECONDS", 60.0),
        "DEPLOY_BOOT_TIMEOUT": _seconds("DEPLOY_BOOT_TIMEOUT", 300.0),
        "DEPLOY_HEALTH_TIMEOUT": _seconds("DEPLOY_HEALTH_TIMEOUT", 3600.0),
        "DEPLOY_TASK_TIMEOUT": _seconds("DEPLOY_TASK_TIMEOUT", 1800.0),
        "DEPLOY_MAX_ATTEMPTS": _int("DEPLOY_MAX_ATTEMPTS", 3),
        "UPDATE_SNAPSHOT_DAYS": _seconds("UPDATE_SNAPSHOT_DAYS", 7.0),
        # The base template's image, and the SHA512SUMS its checksum is read from (HTTPS).
        "BASE_IMAGE_URL": os.environ.get("BASE_IMAGE_URL") or f"{DEBIAN_CLOUD}/{DEBIAN_IMAGE}",
        "BASE_IMAGE_SUMS_URL": os.environ.get("BASE_IMAGE_SUMS_URL")
        or f"{DEBIAN_CLOUD}/SHA512SUMS",
        # Jobs the worker runs at once (threads of `flask worker`): a deploy holds one while
        # it runs, so this many deploys run at the same time (docs/PERFORMANCE.md).
        "JOB_WORKERS": _int("JOB_WORKERS", 2),
        "DEPLOYS_AT_ONCE": _int("DEPLOYS_AT_ONCE", 3),
        "DEPLOY_RATE_LIMIT": _limit("DEPLOY_RATE_LIMIT", "10 per minute"),
        "SESSION_COOKIE_SECURE": env_bool("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PROXY_COUNT": _int("PROXY_COUNT", 0),
        "SENTRY_DSN": os.environ.get("SENTRY_DSN") or None,
        "SENTRY_SPOTLIGHT": os.environ.get("SENTRY_SPOTLIGHT") or None,
        "SENTRY_ENVIRONMENT": os.environ.get("SENTRY_ENVIRONMENT") or None,
        "SENTRY_RELEASE": os.environ.get("SENTRY_RELEASE") or None,
        "SENTRY_TRACES_SAMPLE_RATE": _float("SENTRY_TRACES_SAMPLE_RATE"),
        # Each worker traces at most this many requests a minute (app/observability/sampling.py).
        "SENTRY_TRACES_PER_MINUTE": _count("SENTRY_TRACES_PER_MINUTE", 30),
        "SENTRY_DEBUG": env_bool("SENTRY_DEBUG", None),
        "SENTRY_SEND_USER_PII": env_bool("SENTRY_SEND_USER_PII", True),
    }

"""Fixtures: a real fakepve over HTTPS, the app on a fresh SQLite database, clients and users."""

from __future__ import annotations

import gc
import json
import os
import random
import re
import socket
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import sentry_sdk
from aiosmtpd.controller import Controller
from sentry_sdk.integrations.logging import ignore_logger
from sentry_sdk.transport import Transport

from app import config as settings
from app import create_app, schema
from app.extensions import db
from app.services import users as user_service
from scripts.wait_for_port import wait_for_port

# Hermetic: what the caller exported or wrote in .env never reaches the apps under test
# (tests/test_hermetic.py proves it). Each test states the settings it depends on.
PORTAL_SETTINGS = (
    "SECRET_KEY", "APP_VERSION", "DATABASE_URL", "LOGIN_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT",
    "MAX_CONTENT_LENGTH", "SESSION_COOKIE_SECURE", "PROXY_COUNT", "JOBS_URL", "CATALOG_DIR",
    "DEPLOY_BRIDGE", "DEPLOY_POLL_SECONDS", "DEPLOY_LEASE_SECONDS", "DEPLOY_BOOT_TIMEOUT",
    "DEPLOY_HEALTH_TIMEOUT", "DEPLOY_TASK_TIMEOUT", "DEPLOY_MAX_ATTEMPTS", "BASE_IMAGE_URL",
    "BASE_IMAGE_SUMS_URL", "UPDATE_SNAPSHOT_DAYS",
)  # fmt: skip
for name in list(os.environ):
    if name.startswith(("SENTRY_", "PROXMOX_")) or name in PORTAL_SETTINGS:
        del os.environ[name]
settings.DOTENV_PATH = None
# The real-guest test boots a VM under QEMU (minutes): `make real-guest-test` runs it.
collect_ignore = [] if os.environ.get("REAL_GUEST_TEST") else ["real_guest"]

TOKEN_USER = "root@pam"
TOKEN_NAME = "portal"
TOKEN_VALUE = "tok-3f9c1d7e-test-secret"
ADMIN_PASSWORD = "admin-password-1"
USER_PASSWORD = "user-password-1"


EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing uses (right now), below the kernel's ephemeral
    range when it can: a server started on it seconds later must not find it taken by some
    client's outgoing connection, which the kernel gives a port from that range."""
    lowest = int(EPHEMERAL_PORTS.read_text().split()[0]) if EPHEMERAL_PORTS.exists() else 0
    for _ in range(100 if lowest > 11000 else 0):
        port = random.randrange(10000, lowest)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def csrf_token_in(html: str | bytes) -> str:
    """The CSRF token of the first form in a page."""
    text = html.decode() if isinstance(html, bytes) else html
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text).group(1)


def log_in_over_http(base: str, username: str, password: str):
    """(session, the page the login landed on) for a portal running at base."""
    session = requests.Session()
    token = csrf_token_in(session.get(base + "/login").text)
    data = {"username": username, "password": password, "csrf_token": token}
    return session, session.post(base + "/login", data=data)


def log_in(app, username: str = "alice", role: str = "admin"):
    """Create <username> (password ADMIN_PASSWORD) in app and return a client logged in as them."""
    with app.app_context():
        user_service.create_user(username, ADMIN_PASSWORD, role, f"{username}@example.com")
        db.session.remove()
    return signed_in(app, username, ADMIN_PASSWORD)


def signed_in(app, username: str, password: str):
    """A new client (another browser) logged in as an existing user."""
    client = app.test_client()
    data = {"username": username, "password": password}
    if app.config.get("WTF_CSRF_ENABLED", True):
        data["csrf_token"] = csrf_token_in(client.get("/login").data)
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.data
    return client


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item):
    """Collect garbage once the test's fakepve has stopped, here in the main thread.

    Otherwise the sockets it leaves behind are collected later inside the next fakepve's
    thread, where pytest formats their ResourceWarning while the main thread parses ASTs
    (werkzeug builds URL rules with `ast`): CPython 3.11's AST state is not thread-safe and
    fails with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905).

    What survives is frozen: the next collection then scans only the next test's objects,
    not the whole heap again (which made each teardown slower than the one before).
    """
    try:
        return (yield)
    finally:
        gc.collect()
        gc.freeze()


@pytest.fixture(autouse=True, scope="session")
def jobs_run_inline():
    """Queued jobs run at once, in the process that queues them (Huey's immediate mode, an
    in-memory queue). The tests that need a real worker start one with its own queue."""
    from app import jobs

    jobs.huey.immediate = True
    yield
    jobs.huey.immediate = False


@pytest.fixture
def pve(fakepve):
    """fakepve (its pytest plugin: 127.0.0.1, a free port, TLS) with an API token for the portal."""
    fakepve.apitokens[f"{TOKEN_USER}!{TOKEN_NAME}"] = TOKEN_VALUE
    return fakepve


def proxmox_settings(pve, cafile, **changes) -> dict:
    """PROXMOX_* settings that reach `pve` with the token, verifying TLS against its CA."""
    settings = {
        "PROXMOX_HOST": pve.host,
        "PROXMOX_PORT": pve.port,
        "PROXMOX_USER": TOKEN_USER,
        "PROXMOX_TOKEN_NAME": TOKEN_NAME,
        "PROXMOX_TOKEN_VALUE": TOKEN_VALUE,
        "PROXMOX_PASSWORD": None,
        "PROXMOX_VERIFY_SSL": cafile,
        "PROXMOX_TIMEOUT": 5,
    }
    settings.update(changes)
    return settings


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """Where the first test's freshly migrated SQLite database is kept, for the next tests to
    start from a copy: running the migrations takes 0.2-0.4 s, a copy a millisecond."""
    return tmp_path_factory.getbasetemp() / "migrated.sqlite"


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (sqlite3's backup API)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()


@pytest.fixture
def make_app(tmp_path, pve, fakepve_cafile, migrated_sqlite):
    """Build a test app; keyword arguments override its config."""
    apps = []
    database = tmp_path / "portal.sqlite"

    def build(**overrides):
        config = {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "WTF_CSRF_ENABLED": False,
            # scrypt takes 170 ms a hash; the tests make thousands (production keeps scrypt).
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            # Deploys poll Proxmox every 10 ms in the tests, and give up on a boot or an
            # app's health after 2 s.
            "DEPLOY_POLL_SECONDS": 0.01,
            "DEPLOY_BOOT_TIMEOUT": 2.0,
            "DEPLOY_HEALTH_TIMEOUT": 2.0,
            **proxmox_settings(pve, fakepve_cafile),
        }
        config.update(overrides)
        own_file = config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{database}"
        fresh = own_file and not database.exists()
        copied = fresh and migrated_sqlite.exists()
        if copied:
            copy_sqlite(migrated_sqlite, database)
        app = create_app(config)
        if not copied:
            with app.app_context():
                schema.upgrade(app)
            if fresh:
                copy_sqlite(database, migrated_sqlite)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["proxmox"].close()
        app.extensions["proxmox_quick"].close()
        with app.app_context():
            db.engine.dispose()  # no connection is left for the garbage collector


POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")


def emptied_postgres() -> str:
    """The test PostgreSQL database (TEST_DATABASE_URL; .ci/run sets it), emptied; its URL."""
    from sqlalchemy import create_engine, text

    from app.config import normalise_database_url

    if not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is not set (.ci/run sets it)")
    url = normalise_database_url(POSTGRES_URL)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture
def postgres_app(make_app):
    """An app on an emptied PostgreSQL database."""
    return make_app(SQLALCHEMY_DATABASE_URI=emptied_postgres())


@contextmanager
def running_redis(folder: Path) -> Iterator[str]:
    """Debian's redis-server on a free loopback port (.ci/run installs it); its URL."""
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    assert wait_for_port("127.0.0.1", port, 10), "redis-server did not start"
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def redis_url(tmp_path):
    """A redis-server for the test."""
    with running_redis(tmp_path) as url:
        yield url


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def accounts(app):
    """An admin `alice` and a user `bob`."""
    with app.app_context():
        user_service.create_user("alice", ADMIN_PASSWORD, "admin", "alice@example.test")
        user_service.create_user("bob", USER_PASSWORD, "user", "bob@example.test")
        db.session.remove()
    return {"alice": ADMIN_PASSWORD, "bob": USER_PASSWORD}


@pytest.fixture
def login(client, accounts):
    """login(name) logs the test client (or another app's client) in as one of `accounts`."""

    def do_login(username: str, client=client):
        response = client.post(
            "/login", data={"username": username, "password": accounts[username]}
        )
        assert response.status_code == 302, response.data
        return response

    return do_login


@pytest.fixture
def admin_client(client, login):
    login("alice")
    return client


@pytest.fixture
def user_client(client, login):
    login("bob")
    return client


class RecordingTransport(Transport):
    """Keeps every envelope the SDK would send (how sentry-python tests itself)."""

    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    def flush(self, timeout, callback=None):
        return None

    def payloads(self) -> list[dict]:
        """Every item of every envelope, as JSON (events, transactions, ...)."""
        return [
            item.payload.json for env in self.envelopes for item in env.items if item.payload.json
        ]

    def events(self) -> list[dict]:
        """Error events only (not transactions)."""
        return [
            item.payload.json
            for env in self.envelopes
            for item in env.items
            if item.type == "event"
        ]


# The deploy tests' secret inputs (tests/deploys/) are swept too.
SECRETS = [TOKEN_VALUE, "test-secret-key", ADMIN_PASSWORD, USER_PASSWORD, "Wp-secret-pass-42",
           "Ct-root-pass-77"]  # fmt: skip


def assert_no_secrets(payloads: list[dict], extra: list[str] = ()) -> None:
    """The secret sweep: no secret may appear anywhere in what the SDK would send."""
    import json

    text = json.dumps(payloads, default=str)
    for secret in [*SECRETS, *extra]:
        assert secret not in text, f"a secret ({secret[:4]}...) reached a Sentry payload"


# fakepve serves from the test process (aiohttp): its log of a connection a flaky-network test
# dropped is the fake's, not the portal's, and would reach the recorder as a stray event.
ignore_logger("aiohttp.server")


@pytest.fixture
def sentry(make_app):
    """sentry(**config) -> (app, transport): an app reporting to a recording transport."""
    transports = []

    def build(**overrides):
        transport = RecordingTransport()
        transports.append(transport)
        config = {
            "SENTRY_DSN": "http://public@127.0.0.1:9/1",
            "SENTRY_TRANSPORT": transport,
            "SENTRY_ENVIRONMENT": "development",
            # SDK debug output goes to a stderr that pytest closes before the SDK's atexit hook.
            "SENTRY_DEBUG": False,
            # A test's requests come faster than any worker's; those that look at traces must
            # see every one (tests/observability/test_sampling.py sets its own budget).
            "SENTRY_TRACES_PER_MINUTE": 1_000_000,
        }
        config.update(overrides)
        return make_app(**config), transport

    yield build
    sentry_sdk.flush()
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    for scope in (
        sentry_sdk.get_global_scope(),
        sentry_sdk.get_isolation_scope(),
        sentry_sdk.get_current_scope(),
    ):
        scope.clear()
    for transport in transports:
        assert_no_secrets(transport.payloads())


# Real servers on loopback that notifications reach (Apprise json:// and mailto://).
class Receiver(BaseHTTPRequestHandler):
    """A JSON webhook: what Apprise's json:// posts."""

    received: list[dict] = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    """json://127.0.0.1:PORT/hook (with a token in its path), and what it received."""
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"json://127.0.0.1:{server.server_address[1]}/hook/s3cret-token-42", Receiver.received
    server.shutdown()


class Mailbox:
    def __init__(self):
        self.messages: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope.content.decode(errors="replace"))
        return "250 OK"


@pytest.fixture
def mailbox():
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, box.messages
    controller.stop()

"""The portal served for real (werkzeug's threaded server: websockets need a real socket),
and a running VM with a screen in fakepve."""

import html
import re
import threading

import pytest
import requests
from fakepve.pytest_plugin import _Serving
from werkzeug.serving import make_server

from scripts.fakepve_demo import DemoPve
from tests.conftest import TOKEN_NAME, TOKEN_USER, TOKEN_VALUE, free_port
from tests.guests.conftest import assign  # noqa: F401 - the fixture, for these tests too

# A 4x2 screen: the fake sends it in raw encoding, 32 bits per pixel, as blue, green, red, 0.
SCREEN = (4, 2, bytes(range(100, 124)))


@pytest.fixture
def pve(_fakepve_pki):
    """The demo's fakepve (DemoPve: containers have a serial terminal too), empty."""
    fake = DemoPve(user="root@pam", password="secret", host="127.0.0.1", port=0)
    fake.time_scale = 0
    fake.apitokens[f"{TOKEN_USER}!{TOKEN_NAME}"] = TOKEN_VALUE
    serving = _Serving(fake, *_fakepve_pki)
    yield fake
    serving.stop()


@pytest.fixture
def ct(pve):
    return pve.add_ct(201, "shell", node="pve1", status="running", config={"cores": 1})


@pytest.fixture
def vm(pve):
    guest = pve.add_vm(101, "desk", node="pve1", status="running", config={"cores": 1})
    guest.screen = SCREEN
    return guest


@pytest.fixture
def serve():
    """serve(app) -> http://127.0.0.1:<port>, the app served until the test ends."""
    servers = []

    def start(app) -> str:
        server = make_server("127.0.0.1", free_port(), app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture
def served(app, accounts, serve):
    """The test app at http://127.0.0.1:<port>."""
    return serve(app)


def signed_in(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    response = session.post(base + "/login", data={"username": username, "password": password})
    assert response.url == base + "/", response.url
    return session


def socket_path(page: str) -> str:
    """The console page's websocket URL (ws://…), with its one-time token."""
    return html.unescape(re.search(r'data-socket="([^"]+)"', page).group(1))

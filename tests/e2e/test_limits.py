"""Limits under gunicorn (2 workers, preload), as deployed: a 200 MB body is refused unread,
and failed logins are counted across workers with the default settings (no Redis)."""

import re
import socket
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ADMIN_PASSWORD, csrf_token_in
from tests.e2e.conftest import start_portal


@pytest.fixture(scope="module")
def web(tmp_path_factory, pve_server):
    portal = start_portal(tmp_path_factory.mktemp("portal"), pve_server, "wsgi:app")
    yield portal
    portal.stop()


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


def test_a_200_mb_login_body_is_refused_unread(web):
    session = requests.Session()
    token = csrf_token_in(session.get(web.url + "/login").text)
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    before = {pid: rss_kib(pid) for pid in web.worker_pids}
    host, port = web.url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = (
            "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\nCookie: {cookie}\r\n\r\n"
        )
        sock.sendall(head.encode() + f"csrf_token={token}&username=".encode() + b"a" * 65536)
        answer = sock.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 5
    after = {pid: rss_kib(pid) for pid in web.worker_pids}
    assert all(after[pid] - before[pid] < 20 * 1024 for pid in before), (before, after)


def test_failed_logins_count_across_workers(web):
    def login(password):
        session = requests.Session()
        token = csrf_token_in(session.get(web.url + "/login").text)
        data = {"username": "alice", "password": password, "csrf_token": token}
        return session.post(web.url + "/login", data=data, allow_redirects=False)

    # The default limit is 5 failures per account and address in 10 minutes. Each attempt is
    # a new connection, so gunicorn spreads them over both workers.
    for _ in range(5):
        assert login("wrong-password").status_code == 200
    locked = login(ADMIN_PASSWORD)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 500

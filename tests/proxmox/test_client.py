"""The Proxmox layer against a real fakepve over HTTPS: success and every way a call can fail."""

import threading
import time

import pytest

from app.exceptions import ProxmoxError
from app.proxmox import ProxmoxClient, ProxmoxSettings, cluster
from app.proxmox.cluster import cluster_resources, storages
from tests.conftest import TOKEN_NAME, TOKEN_USER, TOKEN_VALUE, free_port


@pytest.fixture
def connect(pve, fakepve_cafile):
    """connect(**changes) -> a ProxmoxClient for `pve`, closed after the test."""
    clients = []

    def build(**changes) -> ProxmoxClient:
        values = dict(
            host=pve.host,
            port=pve.port,
            user=TOKEN_USER,
            token_name=TOKEN_NAME,
            token_value=TOKEN_VALUE,
            verify_ssl=fakepve_cafile,
            timeout=5,
        )
        values.update(changes)
        clients.append(ProxmoxClient(ProxmoxSettings(**values)))
        return clients[-1]

    yield build
    for client in clients:
        client.close()


def failure(client: ProxmoxClient, path="version") -> ProxmoxError:
    with pytest.raises(ProxmoxError) as caught:
        client.get(path)
    return caught.value


def test_token_login_reads_the_cluster(pve, connect):
    pve.add_vm(100, "web", status="running", config={"tags": "prod;web"})
    pve.add_ct(200, "dns", node="pve2")
    resources = cluster_resources(connect())
    assert [n.name for n in resources.nodes] == ["pve1", "pve2"]
    assert [(g.vmid, g.type, g.node, g.tags) for g in resources.guests] == [
        (100, "qemu", "pve1", ("prod", "web")),
        (200, "lxc", "pve2", ()),
    ]
    one = cluster_resources(connect(), vmid=200)  # a page about one guest builds only it
    assert [g.name for g in one.guests] == ["dns"] and one.nodes == resources.nodes
    assert storages(connect()) == resources.storages != []  # asked without the guests


def test_one_http_session_is_reused(pve, connect):
    client = connect()
    client.get("version")
    api = client._connection()
    client.get("version")
    assert client._connection() is api


def test_password_login_renews_a_revoked_ticket(pve, connect):
    client = connect(token_name=None, token_value=None, password="secret")
    assert client.get("version")["version"]
    pve.revoke_tickets()
    assert client.get("version")["version"]
    logins = [path for method, path, _ in pve.requests if path.endswith("/access/ticket")]
    assert len(logins) == 2


def test_wrong_token_is_named_without_its_secret(pve, connect):
    error = failure(connect(token_value="wrong-value"))
    assert error.kind == "auth" and error.status_code == 401 and error.http_status == 502
    assert (
        error.message == f"Proxmox at {pve.host}:{pve.port} refused the API token root@pam!portal."
    )
    assert "wrong-value" not in repr(error.__dict__)


def test_wrong_password_is_an_auth_error(pve, connect):
    client = connect(token_name=None, token_value=None, password="not-the-password")
    error = failure(client)
    assert error.kind == "auth"
    assert "the password of root@pam" in error.message
    assert "not-the-password" not in repr(error.__dict__)


def test_unreachable_host(pve, connect):
    port = free_port()
    error = failure(connect(host="127.0.0.1", port=port))
    assert (error.kind, error.http_status, error.status_code) == ("unreachable", 503, None)
    assert error.message == f"Could not connect to Proxmox at 127.0.0.1:{port}."


def test_hanging_proxmox_times_out(pve, connect):
    pve.flaky_network(hang_rate=1.0, hang_secs=4)
    error = failure(connect(timeout=1))
    pve.flaky_network()
    assert (error.kind, error.http_status) == ("timeout", 504)
    assert error.message == f"Proxmox at {pve.host}:{pve.port} did not answer within 1 s."


def test_untrusted_certificate(pve, connect):
    error = failure(connect(verify_ssl=True))
    assert error.kind == "tls"
    assert "PROXMOX_VERIFY_SSL" in error.hint


def test_api_error_keeps_pve_message_fields_and_ids(pve, connect):
    client = connect()
    with pytest.raises(ProxmoxError) as caught:
        client.request("POST", "nodes/pve1/qemu", vmid="abc")
    error = caught.value
    assert (error.status_code, error.kind, error.node) == (400, "api", "pve1")
    assert error.pve_message == "Parameter verification failed."
    assert error.errors == {"vmid": "type check ('integer') failed - got 'abc'"}
    assert (error.api_method, error.api_path) == ("POST", "/nodes/pve1/qemu")
    assert "vmid: type check" in error.message


def test_vmid_is_read_from_the_path(pve, connect):
    error = failure(connect(), "nodes/pve1/qemu/4242/status/current")
    assert (error.node, error.vmid) == ("pve1", 4242)


def test_missing_configuration_is_explained(pve, connect):
    error = failure(connect(host=""))
    assert (error.kind, error.http_status) == ("config", 503)
    assert "PROXMOX_HOST" in error.hint


def test_a_process_reads_the_whole_cluster_one_thread_at_a_time(pve, connect):
    """Each answer is megabytes on a large cluster: three threads asking at once are answered
    one after another, so a worker decodes one at most."""
    client = connect()
    pve.time_scale = 1  # the latency is in PVE seconds
    pve.slow_network(0.3)
    threads = [threading.Thread(target=cluster_resources, args=(client,)) for _ in range(3)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 0.85 <= time.monotonic() - started < 1.6  # three rounds of 0.3 s, not one


def test_a_turn_is_not_waited_for_forever(pve, connect, monkeypatch):
    """A read that hangs must not hold every other page of the worker behind it."""
    monkeypatch.setattr(cluster, "TURN_SECONDS", 0.2)
    client = connect()
    with cluster.WHOLE_CLUSTER_READS:  # another thread's read that does not end
        started = time.monotonic()
        assert cluster_resources(client).nodes
    assert 0.2 <= time.monotonic() - started < 1.5

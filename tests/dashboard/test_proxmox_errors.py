"""What a person sees when Proxmox is down, refuses the portal, or hangs."""

from tests.conftest import free_port, log_in


def test_unreachable_proxmox_gives_503_page(make_app):
    port = free_port()
    response = log_in(make_app(PROXMOX_HOST="127.0.0.1", PROXMOX_PORT=port)).get("/")
    assert response.status_code == 503
    page = response.data.decode()
    assert "Proxmox VE is unreachable" in page
    assert f"Could not connect to Proxmox at 127.0.0.1:{port}." in page
    assert "Traceback" not in page


def test_wrong_token_gives_502_page_without_the_secret(make_app):
    response = log_in(make_app(PROXMOX_TOKEN_VALUE="wrong-secret-value")).get("/")
    assert response.status_code == 502
    page = response.data.decode()
    assert "refused the API token root@pam!portal" in page
    assert "wrong-secret-value" not in page


def test_hanging_proxmox_gives_504_page(make_app, pve):
    client = log_in(make_app(PROXMOX_TIMEOUT=1))
    pve.flaky_network(hang_rate=1.0, hang_secs=4)
    response = client.get("/")
    pve.flaky_network()
    assert response.status_code == 504
    assert "did not answer within 1 s" in response.data.decode()


def test_proxmox_error_as_json_for_api_clients(make_app):
    client = log_in(make_app(PROXMOX_TOKEN_VALUE="wrong-secret-value"))
    response = client.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 502
    assert response.json["error"] == "Proxmox VE refused the portal's credentials"


def test_404_page_matches_the_site(admin_client):
    response = admin_client.get("/no/such/page")
    assert response.status_code == 404
    assert b"Error 404" in response.data and b"Proxmox portal" in response.data

"""Create a VM from any template of the cluster, through the deploy pipeline: a cloud-init user
and SSH key, the resources chosen on the form, the user's quota."""

from __future__ import annotations

from urllib.parse import unquote

from tests.conftest import log_in
from tests.deploys.conftest import WORDPRESS_FORM, apps_in
from tests.deploys.test_quotas import set_quota

KEY = WORDPRESS_FORM["input_ssh_key"]
FORM = {
    "name": "devbox", "node": "auto", "storage": "local-lvm", "cores": "2", "memory": "1024",
    "disk": "16", "input_user": "dev", "input_ssh_key": KEY, "request_key": "e" * 32,
}  # fmt: skip


def test_the_templates_page_lists_the_clusters_vm_templates(app, pve):
    page = log_in(app, "bob", "user").get("/apps/templates").get_data(as_text=True)
    assert 'href="/apps/tpl-9000/deploy"' in page and 'href="/apps/tpl-9001/deploy"' in page
    assert "tpl-debian-12" in page and "tpl-ubuntu-24.04" in page


def test_a_vm_is_created_from_a_template_with_its_user_and_key(app, pve):
    client = log_in(app, "bob", "user")
    response = client.post("/apps/tpl-9000/deploy", data=FORM)
    assert response.status_code == 302
    [row] = apps_in(app)
    assert row.status == "running" and row.catalog_id == "tpl-9000", row.error
    vm = pve.vm(row.vmid)
    assert vm.node == "pve1" and vm.name == "devbox" and int(vm.config["memory"]) == 1024
    assert vm.config["ciuser"] == "dev" and unquote(vm.config["sshkeys"]).strip() == KEY
    assert row.outputs == [
        {"label": "SSH", "value": f"ssh://dev@{row.ip_address}/", "kind": "text"}
    ]
    assert "Cloud-init user" in client.get("/my-apps/1").get_data(as_text=True)


def test_an_unknown_template_is_404_and_the_quota_applies(app, pve):
    client = log_in(app, "bob", "user")
    assert client.get("/apps/tpl-100/deploy").status_code == 404  # a VM, not a template
    assert client.get("/apps/tpl-99999999999/deploy").status_code == 404
    set_quota(app, "bob", cores=1)
    refused = client.post("/apps/tpl-9000/deploy", data=FORM)
    assert refused.status_code == 400
    assert "This new VM goes over your cores quota" in refused.get_data(as_text=True)
    assert apps_in(app) == []

"""The app catalog: the shipped files, validation with a message naming file and field, the
start-up refusing a bad file, and the catalog pages."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import config
from app.catalog import CatalogError, load_catalog

ROOT = config.PROJECT_ROOT
ICONS = ROOT / "static" / "icons" / "apps"


def shipped():
    return load_catalog(ROOT / "catalog", ICONS)


def test_the_shipped_catalog_has_ten_apps_over_four_categories_of_both_kinds():
    apps = shipped()
    assert len(apps) >= 10
    assert len({a.category for a in apps.values()}) >= 4
    assert {a.guest_type for a in apps.values()} == {"qemu", "lxc"}


def test_every_app_can_be_made_on_the_demo_cluster():
    cluster = json.loads((ROOT / "demo" / "cluster.json").read_text())
    templates = {g["name"] for g in cluster["guests"] if g.get("template")}
    volumes = {f"{v['storage']}:{v['content']}/{v['name']}" for v in cluster["volumes"]}
    for app in shipped().values():
        assert (app.source.template in templates) or (app.source.ostemplate in volumes), app.id


@pytest.fixture
def catalog_copy(tmp_path):
    """A writable copy of the shipped catalog in tmp_path/catalog."""
    folder = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", folder)
    return folder


BROKEN = [  # (file, text, replaced by, the message after "catalog/")
    ("gitea.yaml", "  cores: {default: 2, minimum: 1}\n", "",
     "gitea.yaml: resources.cores: Field required"),
    ("gitea.yaml", "guest_type: qemu", "guest_type: kvm",
     "gitea.yaml: guest_type: Input should be 'qemu' or 'lxc'"),
    ("nginx.yaml", "{default: 512, minimum: 256}", "{default: 128, minimum: 256}",
     "nginx.yaml: resources.memory: default 128 is below the minimum 256"),
    ("nginx.yaml", "    target: password", "    target: cipassword",
     "nginx.yaml: inputs.root_password.target: cipassword is not for lxc apps"),
    ("gitea.yaml", '"{http_port}"', '"{port}"',
     "gitea.yaml: provision: {port} is not an input"),
    ("gitea.yaml", "id: gitea", "id: forgejo",
     "gitea.yaml: id: 'forgejo' must match the file name 'gitea'"),
    ("gitea.yaml", "icon: gitea.svg", "icon: nothere.svg",
     "gitea.yaml: icon: nothere.svg is not in"),
    ("redis.yaml", 'version: "7.2"', 'version: "7.2"\nport: 6379',
     "redis.yaml: port: Extra inputs are not permitted"),
    ("redis.yaml", "id: redis", "id: [redis", "redis.yaml: not valid YAML"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "old", "new", "message"), BROKEN)
def test_a_bad_file_is_named_with_its_field(catalog_copy, name, old, new, message):
    path = catalog_copy / name
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(CatalogError) as caught:
        load_catalog(catalog_copy, ICONS)
    assert str(caught.value).startswith(f"catalog/{message}"), str(caught.value)


def test_a_bad_file_stops_the_start_with_a_message(catalog_copy, tmp_path):
    (catalog_copy / "gitea.yaml").write_text("id: gitea\nname: Gitea\n")
    database = tmp_path / "x.sqlite"
    env = {"CATALOG_DIR": str(catalog_copy), "SECRET_KEY": "x" * 32,
           "DATABASE_URL": f"sqlite:///{database}", "PATH": "/usr/bin:/bin"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "init-db"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("The portal cannot start: catalog/gitea.yaml: description:")
    assert "Traceback" not in result.stderr
    assert not database.exists()


def test_catalog_page_filters_by_category_and_search(admin_client):
    page = admin_client.get("/apps").data.decode()
    assert page.count('class="app-card"') == len(shipped())
    databases = admin_client.get("/apps?category=Databases").data.decode()
    assert databases.count('class="app-card"') == 3 and 'data-app="redis"' in databases
    found = admin_client.get("/apps?q=dashboards").data.decode()
    assert found.count('class="app-card"') == 1 and 'data-app="grafana"' in found
    unknown = admin_client.get("/apps?category=Nope").data.decode()
    assert unknown.count('class="app-card"') == len(shipped())
    assert "No app matches" in admin_client.get("/apps?q=zzzz").data.decode()


def test_app_page_says_whether_the_cluster_has_the_template(user_client, pve):
    missing = user_client.get("/apps/gitea").data.decode()
    assert "no template tpl-debian-12 on an online node" in missing
    pve.add_vm(9000, "tpl-debian-12", node="pve1", template=True)
    ready = user_client.get("/apps/gitea").data.decode()
    assert "has its template tpl-debian-12 on pve1" in ready
    assert "Login user" in ready and "http://{ip}:{http_port}/" in ready


def test_app_page_finds_a_container_template_volume(user_client, pve):
    pve.add_node("pve1")
    assert "no container template" in user_client.get("/apps/redis").data.decode()
    pve.store_file("local", "alpine-3.20-default_20240908_amd64.tar.xz", 1000, content="vztmpl")
    page = user_client.get("/apps/redis").data.decode()
    assert (
        "container template local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz on pve1" in page
    )


def test_unknown_app_is_404(user_client):
    assert user_client.get("/apps/nope").status_code == 404


def test_anonymous_is_sent_to_login(client):
    assert client.get("/apps").status_code == 302
    assert client.get("/apps/nginx").status_code == 302


def test_shipped_catalog_files_are_plain_yaml():
    for path in Path(ROOT / "catalog").glob("*.yaml"):
        assert "\t" not in path.read_text(), path.name

"""The app catalog: the shipped files, validation with a message naming file and field, the
start-up refusing a bad file, and the catalog pages."""

import json
import shutil
import subprocess
import sys

import pytest

from app import config
from app.catalog import CatalogError, load_catalog

ROOT = config.PROJECT_ROOT
ICONS = ROOT / "static" / "icons" / "apps"


def shipped():
    return load_catalog(ROOT / "catalog", ICONS)


def test_the_shipped_catalog_has_forty_compose_apps_over_eight_categories():
    apps = shipped()
    assert len(apps) >= 40
    assert len({a.category for a in apps.values()}) >= 8
    assert all(a.compose and a.health for a in apps.values())
    assert {"vm", "oci"} <= {runtime for a in apps.values() for runtime in a.runtimes}


def test_every_app_names_its_sources_and_calls_nothing_the_project_does_not_ship():
    for folder in sorted((ROOT / "catalog").iterdir()):
        text = (folder / "app.yaml").read_text()
        assert text.startswith("# Sources: http"), folder.name
        assert "\t" not in text + (folder / "compose.yaml").read_text(), folder.name
        assert "/usr/local/sbin" not in (folder / "compose.yaml").read_text(), folder.name


def test_every_vm_app_can_be_made_on_the_demo_cluster():
    cluster = json.loads((ROOT / "demo" / "cluster.json").read_text())
    templates = {g["name"] for g in cluster["guests"] if g.get("template")}
    assert {app.vm_template for app in shipped().values()} <= templates


@pytest.fixture
def catalog_copy(tmp_path):
    """A writable copy of the shipped catalog in tmp_path/catalog."""
    folder = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", folder)
    return folder


BROKEN = [  # (file, text, replaced by, the message after "catalog/")
    ("gitea/app.yaml", "  cores: {default: 2, minimum: 1}\n", "",
     "gitea/app.yaml: resources.cores: Field required"),
    ("gitea/app.yaml", "runtimes: [vm]", "runtimes: [kvm]",
     "gitea/app.yaml: runtimes.0: Input should be 'vm' or 'oci'"),
    ("redis/app.yaml", "{default: 1024, minimum: 256}", "{default: 128, minimum: 256}",
     "redis/app.yaml: resources.memory: default 128 is below the minimum 256"),
    ("redis/app.yaml", "    type: generated", "    type: generated\n    target: ciuser",
     "redis/app.yaml: inputs.0: a generated secret goes to the app's environment"),
    ("postgresql/app.yaml", "{postgres_user}@{ip}", "{user}@{ip}",
     "postgresql/app.yaml: outputs: {user} is not an input"),
    ("postgresql/app.yaml", "name: PostgreSQL", "id: postgres\nname: PostgreSQL",
     "postgresql/app.yaml: id: leave it out"),
    ("gitea/app.yaml", "icon: gitea.svg", "icon: nothere.svg",
     "gitea/app.yaml: icon: nothere.svg is not in"),
    ("redis/app.yaml", "category: Databases", "category: Databases\nport: 6379",
     "redis/app.yaml: port: Extra inputs are not permitted"),
    ("redis/app.yaml", "name: Redis", "name: [Redis", "redis/app.yaml: not valid YAML"),
    ("redis/app.yaml", "  port: 6379", "  port: 80",
     "redis/app.yaml: health.port: Input should be greater than or equal to 1024"),
    ("redis/compose.yaml", "image: redis:8.10.1", "image: redis:latest",
     "redis/compose.yaml: service redis: pin its image to a version tag"),
    ("redis/compose.yaml", "${REDIS_PASSWORD}", "${REDIS_PASS}",
     "redis/compose.yaml: ${REDIS_PASS} is not defined"),
    ("redis/compose.yaml", "    restart: unless-stopped", "    restart: [unless-stopped]",
     "redis/compose.yaml: services/redis/restart: ['unless-stopped'] is not of type 'string'"),
    ("postgresql/compose.yaml", "      - pgdata:/var/lib/postgresql",
     "      - pgdata:/var/lib/postgresql\n      - logs:/var/log",
     "postgresql/compose.yaml: runtimes: oci: service postgres: the oci runtime keeps one"),
    ("uptime-kuma/compose.yaml", '"3001:3001"', '"3002:3001"',
     "uptime-kuma/compose.yaml: runtimes: oci: service uptime-kuma: health port 3001 is not "
     "published as 3001:3001"),
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
    (catalog_copy / "gitea" / "app.yaml").write_text("name: Gitea\n")
    database = tmp_path / "x.sqlite"
    env = {"CATALOG_DIR": str(catalog_copy), "SECRET_KEY": "x" * 32,
           "DATABASE_URL": f"sqlite:///{database}", "PATH": "/usr/bin:/bin"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "init-db"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("The portal cannot start: catalog/gitea/app.yaml: description:")
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


def test_app_page_says_where_each_runtime_can_run(user_client, pve):
    pve.add_node("pve1")
    missing = user_client.get("/apps/postgresql").data.decode()
    assert "No online node holds the VM template portal-debian-13." in missing
    assert "OCI containers need Proxmox VE 9.1 or later; this cluster runs 9.0." in missing
    pve.version = "9.1.2"
    assert (
        "As an OCI container: this cluster can run it on pve1"
        in user_client.get("/apps/postgresql").data.decode()
    )
    pve.add_vm(9100, "portal-debian-13", node="pve1", template=True)
    ready = user_client.get("/apps/postgresql").data.decode()
    assert "In a VM: this cluster can run it on pve1 (VM template portal-debian-13)" in ready
    assert "Superuser name" in ready and "postgresql://{postgres_user}@{ip}:5432/" in ready
    assert 'Superuser password <small class="muted">(made for you' in ready


def test_unknown_app_is_404(user_client):
    assert user_client.get("/apps/nope").status_code == 404


def test_anonymous_is_sent_to_login(client):
    assert client.get("/apps").status_code == 302
    assert client.get("/apps/redis").status_code == 302

"""The shape docs/ARCHITECTURE.md describes, read from app/'s own imports with `ast`
(imports under `if TYPE_CHECKING:` and inside functions count like any other)."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
BLUEPRINTS = ("admin", "apps", "audit", "auth", "console", "dashboard", "guests", "health",
              "myapps", "tasks")  # fmt: skip
MAX_LINES = 300
MAX_SERVICE_MODULES = 12


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in APP.rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The app module a dotted name is (or is inside of)."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def imported_by(name: str) -> set[str]:
    """The app modules that module `name` imports (`from pkg import module` names the module)."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            named = [f"{base}.{alias.name}" for alias in node.names]
            # `from pkg import module` imports the module; `from module import name`, the module
            named_modules = [t for t in named if t in modules()]
            targets = named_modules + ([base] if len(named_modules) < len(named) else [])
        else:
            continue
        for target in targets:
            if target == "app" or target.startswith("app."):
                resolved = _resolve(target)
                if resolved and resolved != name:
                    found.add(resolved)
    return found


@cache
def graph() -> dict[str, set[str]]:
    return {name: imported_by(name) for name in modules()}


def _layer(name: str) -> str:
    """`blueprint`, `services`, `proxmox`, or the module itself for the rest."""
    parts = name.split(".")
    if len(parts) > 1 and parts[1] in BLUEPRINTS:
        return "blueprint"
    return parts[1] if len(parts) > 1 and parts[1] in ("services", "proxmox") else name


def test_the_graph_sees_imports_of_every_kind():
    """The reader itself: a TYPE_CHECKING import, a relative one and `from pkg import mod`."""
    assert "app.services.apps.deploy.runner" in graph()["app.jobs"]
    assert "app.services.tasks" in graph()["app.services.apps.deploy.context"]
    assert "app.observability.scopes" in graph()["app.observability"]


def test_no_import_circle():
    seen: dict[str, str] = {}  # module -> "open" while on the path, "done" after

    def visit(name: str, path: list[str]) -> None:
        seen[name] = "open"
        for target in sorted(graph()[name]):
            if seen.get(target) == "open":
                cycle = path[path.index(target) :] + [target]
                pytest.fail("Import circle: " + " -> ".join(cycle))
            if target not in seen:
                visit(target, [*path, target])
        seen[name] = "done"

    for name in sorted(graph()):
        if name not in seen:
            visit(name, [name])


def imports_from(layer: str, reaching) -> list[str]:
    """`module -> target` for each import from a module of layer to a target reaching(target)."""
    return [
        f"{name} -> {target}"
        for name, targets in graph().items()
        if _layer(name) == layer
        for target in targets
        if reaching(target)
    ]


@pytest.mark.parametrize("layer", ["services", "proxmox"])
def test_services_and_proxmox_import_nothing_above_them(layer):
    above = ("app.jobs", "app.errors", "app.cli")
    assert imports_from(layer, lambda t: _layer(t) == "blueprint" or t in above) == []


def test_proxmox_imports_no_service():
    assert imports_from("proxmox", lambda t: _layer(t) == "services") == []


def test_views_call_services_never_proxmox():
    assert imports_from("blueprint", lambda t: _layer(t) == "proxmox") == []


def test_only_the_job_module_imports_the_deploy_runner():
    importers = {
        n for n, targets in graph().items() if "app.services.apps.deploy.runner" in targets
    }
    assert importers == {"app.jobs"}


def test_sentry_sdk_is_imported_only_by_observability():
    outside = [
        name
        for name, path in modules().items()
        if not name.startswith("app.observability") and "sentry_sdk" in _imported_roots(path)
    ]
    assert outside == []


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def test_settings_come_through_config():
    """Only app/config.py reads the environment."""
    readers = [
        name
        for name, path in modules().items()
        if name != "app.config"
        and ("os.environ" in path.read_text() or "getenv" in path.read_text())
    ]
    assert readers == []


def test_no_module_is_over_300_lines():
    long = {
        name: count
        for name, path in modules().items()
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_services_keeps_few_modules_at_its_top():
    top = sorted(p.name for p in (APP / "services").glob("*.py"))
    assert len(top) <= MAX_SERVICE_MODULES, top


# What a web worker must not carry: the migrations (Alembic, Mako, Pygments), what only the job
# worker uses (Apprise, pycdlib), and what only a rare page needs (Authlib without single
# sign-on, pyotp and segno for two-factor sign-in). Issue 25 measured them at about 18 MB.
NOT_IN_WEB_WORKERS = (
    "alembic",
    "mako",
    "pygments",
    "apprise",
    "pycdlib",
    "authlib",
    "pyotp",
    "segno",
    "argon2",
    "cryptography",
    "redis",
    "psycopg",
)  # fmt: skip (the last two: app/queue_backends)


def test_a_web_worker_imports_only_what_it_uses(tmp_path):
    """Importing the app as gunicorn does (wsgi.py) leaves those modules out."""
    import subprocess
    import sys

    script = (
        f"import sys, wsgi; print(' '.join(m for m in {NOT_IN_WEB_WORKERS!r} if m in sys.modules))"
    )
    env = {"SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path}/a.db", "PATH": "/usr/bin"}
    loaded = subprocess.run(
        [sys.executable, "-c", script], cwd=APP.parent, env=env, capture_output=True, text=True,
        check=True,
    ).stdout.split()  # fmt: skip
    assert loaded == []

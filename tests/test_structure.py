"""The code's shape, held: imports run one way (no cycle between the app's modules, at the
top or inside a function), the layers don't reach up (core imports neither Reflex nor
FastAPI nor the pages; settings sit below core; components and shared state never import
a page), only core/crypto.py imports `cryptography`, and no module outgrows a read."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pwpush_app"
MAX_LINES = 450
# Page modules of ui/: everything there that is not shared by pages.
SHARED_UI = {"pwpush_app.ui.common", "pwpush_app.ui.session", "pwpush_app.ui.i18n"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every app module `path` imports, anywhere in it (`from a import b` may name a module b)."""
    found: set[str] = set()
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {target for target in targets if target in modules and target != name}
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _external_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_core_depends_on_neither_the_web_frameworks_nor_the_doors():
    for name, path in _modules().items():
        if not name.startswith("pwpush_app.core"):
            continue
        assert not _external_imports(path) & {"reflex", "fastapi", "starlette"}, name
        assert not {m for m in _imports(path, _modules()) if m.startswith(("pwpush_app.ui", "pwpush_app.api"))}, name


SETTINGS_MODULES = {"pwpush_app.settings_values", "pwpush_app.settings_kinds", "pwpush_app.settings_mail",
                    "pwpush_app.settings_languages",
                    "pwpush_app.settings_pages", "pwpush_app.settings_storage"}


def test_settings_sit_below_core():
    # Settings read and check the environment; they may use the key's text format
    # (master_key.py, which imports nothing of ours), their own helpers below them
    # (settings_values.py: reading; settings_kinds.py: the per-kind policies; settings_mail.py:
    # mail and webhooks), and nothing
    # of core or the doors.
    modules = _modules()
    below = {"pwpush_app", "pwpush_app.master_key"} | SETTINGS_MODULES
    assert _imports(modules["pwpush_app.settings"], modules) <= below
    assert _imports(modules["pwpush_app.master_key"], modules) <= {"pwpush_app"}
    for name in SETTINGS_MODULES:
        assert _imports(modules[name], modules) <= {"pwpush_app"} | SETTINGS_MODULES, name


def test_components_and_shared_state_never_import_pages():
    modules = _modules()
    pages = {name for name in modules if name.startswith("pwpush_app.ui.")
             and not name.startswith("pwpush_app.ui.components") and name not in SHARED_UI}
    for name, path in modules.items():
        if name.startswith("pwpush_app.ui.components") or name in SHARED_UI:
            assert not _imports(path, modules) & pages, name


def test_only_crypto_touches_cryptography():
    users = {name for name, path in _modules().items() if "cryptography" in _external_imports(path)}
    assert users == {"pwpush_app.core.crypto"}


def test_no_module_outgrows_a_read():
    too_long = {name: n for name, path in _modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert too_long == {}


def test_no_module_reaches_for_another_modules_private_helpers():
    reached = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pwpush_app"):
                reached += [f"{name} <- {node.module}.{a.name}" for a in node.names
                            if a.name.startswith("_") and not a.name.startswith("__")]
    assert reached == []


def test_the_keeper_imports_nothing_of_the_app_before_it_starts_a_generation():
    """`python -m pwpush_app serve` binds its port and starts the app's first generation
    before anything else: the commands' module and the keeper load no setting, no core,
    no framework (each would add to every start: issue 23)."""
    import subprocess
    import sys

    script = ("import sys, pwpush_app.__main__, pwpush_app.server; "
              "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
              "('pwpush_app', 'reflex', 'reflex_base', 'sqlalchemy', 'sqlmodel', 'fastapi', 'pydantic', 'granian'))))")
    loaded = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True,
                            cwd=PACKAGE.parent).stdout.split()
    assert loaded == ["pwpush_app", "pwpush_app.__main__", "pwpush_app.generation", "pwpush_app.listeners",
                      "pwpush_app.server"]


def test_the_app_on_sqlite_loads_nothing_of_postgresql():
    """A generation's import of the app (as it does before forking its workers) on the
    default SQLite loads neither PostgreSQL's SQLAlchemy dialect nor its driver: ~30 ms of
    every start (issue 23). They load where a PostgreSQL engine or upsert needs them."""
    import os
    import subprocess
    import sys

    sqlite = {name: value for name, value in os.environ.items() if name != "REFLEX_DB_URL"}
    script = ("import sys; from reflex.utils import prerequisites; prerequisites.get_app(); "
              "print(' '.join(sorted(m for m in sys.modules if 'postgres' in m or m.split('.')[0] == 'psycopg')))")
    loaded = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True,
                            cwd=PACKAGE.parent, env=sqlite, timeout=120).stdout.split()
    assert loaded == []

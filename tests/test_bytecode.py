"""A generation writes the app's bytecode before importing it (pwpush_app/generation.py):
machines and images that set PYTHONDONTWRITEBYTECODE would otherwise compile ~150 modules
from source at every start."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from pwpush_app.generation import write_bytecode


def _cached(source: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(source)))


def _app(root: Path) -> tuple[Path, Path, Path]:
    package = root / "app"
    (package / "ui").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text("ANSWER = 42\n")
    (package / "ui" / "page.py").write_text("TITLE = 'page'\n")
    config = root / "rxconfig.py"
    config.write_text("NAME = 'app'\n")
    return package, package / "models.py", package / "ui" / "page.py"


def test_every_module_and_the_config_get_their_bytecode_even_where_python_would_write_none(tmp_path):
    package, models, page = _app(tmp_path)
    config = tmp_path / "rxconfig.py"
    # In a process that was told not to write bytecode, as a generation on such a machine is.
    script = f"from pwpush_app.generation import write_bytecode; write_bytecode({str(package)!r}, {str(config)!r})"
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    for source in (models, page, config, package / "__init__.py"):
        assert _cached(source).is_file(), source
    # Python's own bytecode: a fresh process that may not write any imports the modules from it
    # (`-v` names the file each module's code object comes from).
    check = ("import sys; sys.path[:0] = [{root!r}]; import app.models, app.ui.page; "
             "assert app.models.ANSWER == 42 and app.ui.page.TITLE == 'page'").format(root=str(tmp_path))
    loaded = subprocess.run([sys.executable, "-v", "-c", check], check=True, capture_output=True, text=True,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}).stderr
    for source in (models, page):
        assert f"code object from '{_cached(source)}'" in loaded, source


def test_only_what_changed_is_compiled_again(tmp_path):
    package, models, page = _app(tmp_path)
    write_bytecode(str(package))
    page_bytecode = _cached(page).stat().st_mtime_ns
    old_models = _cached(models).read_bytes()
    models.write_text("ANSWER = 43\n")
    os.utime(models, ns=(models.stat().st_atime_ns, models.stat().st_mtime_ns + 2_000_000_000))
    write_bytecode(str(package))
    assert _cached(models).read_bytes() != old_models
    assert _cached(page).stat().st_mtime_ns == page_bytecode


def test_a_folder_that_cannot_take_bytecode_and_a_broken_module_stop_nothing(tmp_path):
    package, models, page = _app(tmp_path)
    (package / "ui" / "__pycache__").write_text("a file where the folder would go")  # root ignores modes
    (package / "broken.py").write_text("def (:\n")
    write_bytecode(str(package), str(tmp_path / "missing.py"))
    assert _cached(models).is_file()
    assert not _cached(package / "broken.py").exists()
    assert (package / "ui" / "__pycache__").is_file()

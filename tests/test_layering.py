"""The import contracts: app/ is the Qt-free core (no PySide6, shiboken6 or ui), and only
app/engine/ talks to Docker (no other module of app/ or ui/ imports the SDK or its HTTP stack)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
FORBIDDEN = {"PySide6", "shiboken6", "ui"}
ENGINE = APP / "engine"
SDK = {"docker", "requests", "urllib3", "paramiko"}


def _app_files() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "__pycache__" not in p.parts)


def _forbidden_imports(path: Path, forbidden: set[str] = FORBIDDEN) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)  # importlib.import_module("X") / __import__("X")
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        for name in names:
            if name.split(".")[0] in forbidden:
                shown = path.relative_to(ROOT) if ROOT in path.parents else path
                where = f"{shown}:{node.lineno}"
                found.append(f"{where} imports {name}")
    return found


def _app_modules() -> list[str]:
    modules = []
    for path in _app_files():
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__main__":
            continue  # importing it would run the program
        if parts[-1] == "__init__":
            parts.pop()
        modules.append(".".join(parts))
    return modules


def test_app_sources_do_not_import_qt_or_ui() -> None:
    files = _app_files()
    assert files, f"no Python files under {APP}"
    problems = [p for path in files for p in _forbidden_imports(path)]
    assert not problems, "app/ must stay free of Qt and ui:\n" + "\n".join(problems)


def test_importing_every_app_module_loads_no_qt() -> None:
    modules = _app_modules()
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        + repr(sorted(FORBIDDEN))
        + "))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"importing {modules} failed:\n{result.stderr}"
    loaded = result.stdout.strip().splitlines()[-1]
    assert "PySide6" not in loaded, f"importing app/ loaded Qt: {loaded}"
    assert loaded == "[]", f"importing app/ loaded {loaded}"


def test_only_app_engine_imports_the_docker_sdk() -> None:
    files = sorted(p for folder in (APP, ROOT / "ui") for p in folder.rglob("*.py")
                   if "__pycache__" not in p.parts and ENGINE not in p.parents)
    assert len(files) > 20, "too few files: the walk is wrong"
    problems = [p for path in files for p in _forbidden_imports(path, SDK)]
    assert not problems, "only app/engine/ talks to Docker:\n" + "\n".join(problems)


def test_the_sdk_check_finds_an_sdk_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import docker.errors\nfrom requests import Session\n")
    assert len(_forbidden_imports(probe, SDK)) == 2

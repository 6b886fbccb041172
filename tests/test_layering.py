"""app/ is the Qt-free core: it never imports PySide6, shiboken6 or the ui package."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
FORBIDDEN = {"PySide6", "shiboken6", "ui"}


def _app_files() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "__pycache__" not in p.parts)


def _forbidden_imports(path: Path) -> list[str]:
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
            if name.split(".")[0] in FORBIDDEN:
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
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

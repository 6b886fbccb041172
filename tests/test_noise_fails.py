"""The suite's rule on noise (pyproject's pytest configuration): a Qt warning or a Python
warning fails the test that caused it, unless the configuration filters it with a reason."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBES = '''
    import warnings

    from PySide6.QtCore import qWarning
    from pytestqt.qtbot import QtBot


    def test_quiet(qtbot: QtBot) -> None:
        pass


    def test_a_qt_warning(qtbot: QtBot) -> None:
        qWarning("QObject::connect: No such signal of ours")


    def test_a_python_warning() -> None:
        warnings.warn("a deprecated call of ours", DeprecationWarning, stacklevel=1)


    def test_a_filtered_qt_warning(qtbot: QtBot) -> None:
        qWarning("This plugin does not support propagateSizeHints()")
'''


@pytest.mark.timeout(120)
def test_qt_and_python_warnings_fail_unless_filtered(tmp_path: Path) -> None:
    probe = tmp_path / "test_probes.py"
    probe.write_text(textwrap.dedent(PROBES), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
         "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path), str(probe)],
        cwd=tmp_path, capture_output=True, text=True, timeout=110, check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    out = result.stdout
    outcomes = {line.split("::")[-1].split()[0]: line.split()[0] for line in out.splitlines()
                if line.startswith(("PASSED", "FAILED", "ERROR")) and "::" in line}
    assert outcomes == {"test_quiet": "PASSED", "test_a_qt_warning": "FAILED",
                        "test_a_python_warning": "FAILED",
                        "test_a_filtered_qt_warning": "PASSED"}, out

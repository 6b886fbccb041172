"""The window as `moorings` opens it (run_window, in this process): a load that fails says why."""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from app.config.store import SCHEMA_VERSION
from ui.application import run_window
from ui.main_window import MainWindow

pytestmark = [pytest.mark.gui]


def test_a_configuration_from_a_newer_moorings_is_named_in_the_window(
        qtbot: QtBot, tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    newer = {"schema": SCHEMA_VERSION + 1, "instances": {}}
    (folder / "moorings.json").write_text(json.dumps(newer), encoding="utf-8")
    before = (folder / "moorings.json").read_bytes()
    seen: dict[str, str] = {}

    def look() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        label = windows[0].findChild(QLabel, "loading") if windows else None
        if label is not None and "could not start" in label.text():
            seen["text"] = label.text()
            seen["header"] = windows[0].connection_label.text()
            windows[0].close()
        else:
            QTimer.singleShot(50, look)

    QTimer.singleShot(0, look)
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(QApplication.quit)
    give_up.start(30_000)
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        code = run_window(argparse.Namespace(config_dir=str(folder), touch=False,
                                             fullscreen=False, log_level="WARNING"))
    finally:
        give_up.stop()
        signal.signal(signal.SIGINT, handlers[0])
        signal.signal(signal.SIGTERM, handlers[1])
    assert code == 0
    assert "newer Moorings" in seen["text"], seen
    assert "Nothing was changed" in seen["text"]
    assert seen["header"] == "not started"
    assert (folder / "moorings.json").read_bytes() == before

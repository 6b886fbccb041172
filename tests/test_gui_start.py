"""The window as `moorings` opens it (run_window, in this process): restore, close, load errors."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import docker
import pytest
from harness import TestEnv
from moorings_process import import_config
from orchestration import instance_values
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from app.config.store import SCHEMA_VERSION
from app.orchestrator.lock import claim_folder
from app.orchestrator.state import Phase
from ui.application import run_window
from ui.main_window import MainWindow

pytestmark = [pytest.mark.gui]


def _run_window_until(folder: Path, step: Callable[[MainWindow], bool]) -> int:
    """Run the window as `moorings --config-dir folder` does; ``step`` is called on the GUI
    thread every 50 ms with the window until it returns True (it may close the window)."""
    def look() -> None:
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        if not (windows and step(windows[0])):
            QTimer.singleShot(50, look)

    QTimer.singleShot(0, look)
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(QApplication.quit)
    give_up.start(60_000)
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        return run_window(argparse.Namespace(config_dir=str(folder), touch=False,
                                             fullscreen=False, log_level="WARNING",
                                             # The test process keeps its own priority.
                                             normal_priority=True))
    finally:
        give_up.stop()
        signal.signal(signal.SIGINT, handlers[0])
        signal.signal(signal.SIGTERM, handlers[1])


@pytest.mark.engine
@pytest.mark.usefixtures("cleanup")
def test_closing_the_window_stops_moorings_and_leaves_the_container_running(
        qtbot: QtBot, tmp_path: Path, test_env: TestEnv,
        docker_client: docker.DockerClient) -> None:
    folder = tmp_path / "cfg"
    import_config(folder, test_env, {"moorings-test-close-a": instance_values(test_env)})
    seen: dict[str, object] = {}
    nice = os.getpriority(os.PRIO_PROCESS, 0)

    def close_once_running(win: MainWindow) -> bool:
        status = win.model.status("moorings-test-close-a") if win.findChild(
            QLabel, "loading") is None else None
        if status is None or status.phase is not Phase.RUNNING:
            return False
        seen["running"] = True
        win.close()  # as a person closes it
        return True

    code = _run_window_until(folder, close_once_running)
    assert code == 0
    assert seen.get("running"), "the instance was not restored at launch"
    assert docker_client.containers.get("moorings-test-close-a").status == "running"
    # Stopped cleanly: the orchestrator's threads are gone and the folder is free again.
    alive = {t.name for t in threading.enumerate()}
    assert not alive & {"moorings-reconcile", "moorings-engine-events", "moorings-inventory"}
    claim_folder(folder).release()
    # --normal-priority was given: the window left this process's CPU priority alone.
    assert os.getpriority(os.PRIO_PROCESS, 0) == nice


def test_a_configuration_from_a_newer_moorings_is_named_in_the_window(
        qtbot: QtBot, tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    newer = {"schema": SCHEMA_VERSION + 1, "instances": {}}
    (folder / "moorings.json").write_text(json.dumps(newer), encoding="utf-8")
    before = (folder / "moorings.json").read_bytes()
    seen: dict[str, str] = {}

    def note_the_error(win: MainWindow) -> bool:
        label = win.findChild(QLabel, "loading")
        if label is None or "could not start" not in label.text():
            return False
        seen["text"] = label.text()
        seen["header"] = win.connection_label.text()
        win.close()
        return True

    assert _run_window_until(folder, note_the_error) == 0
    assert "newer Moorings" in seen["text"], seen
    assert "Nothing was changed" in seen["text"]
    assert seen["header"] == "not started"
    assert (folder / "moorings.json").read_bytes() == before

"""Start the window: lock the folder, load the configuration, start the core, show, stop cleanly."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from app.config.repository import ConfigRepository
from app.config.store import ConfigStore
from app.errors import StoreError
from app.headless import configure_logging
from app.metatype import RESOURCES_DIR, load_catalog
from app.orchestrator.lock import FolderLock
from app.orchestrator.service import Orchestrator
from app.paths import config_dir, ensure_dir

log = logging.getLogger("moorings")


def _want_virtual_keyboard(args: argparse.Namespace) -> bool:
    # Only for the touch panel, and only where the plugin can load; a laptop keeps its IME.
    if not (args.touch or args.fullscreen) or os.environ.get("QT_IM_MODULE"):
        return False
    if os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal"):
        return False
    try:
        import PySide6

        plugin_dir = os.path.join(os.path.dirname(PySide6.__file__), "Qt", "plugins",
                                  "platforminputcontexts")
        return any("virtualkeyboard" in f for f in os.listdir(plugin_dir))
    except OSError:
        return False


def load_style() -> str:
    path = RESOURCES_DIR / "styles" / "moorings.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def run_window(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    folder = config_dir(args.config_dir)
    try:
        ensure_dir(folder)
        lock = FolderLock(folder)
        lock.acquire()
        repo = ConfigRepository(ConfigStore(folder), load_catalog())
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    if _want_virtual_keyboard(args):
        os.environ["QT_IM_MODULE"] = "qtvirtualkeyboard"

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from app import threadguard
    from ui.bridge import CoreBridge
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Moorings")
    app.setStyleSheet(load_style())
    threadguard.forbid_current_thread()
    orch = Orchestrator(repo)
    bridge = CoreBridge(orch)
    window = MainWindow(bridge, touch=True if args.touch else None,
                        load_warnings=repo.load_warnings)
    orch.start()
    if args.fullscreen:
        window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        window.showFullScreen()
    else:
        area = app.primaryScreen().availableGeometry()
        if area.width() < 1280 or area.height() < 800:
            window.showMaximized()  # a small panel: use all of it
        else:
            window.resize(1280, 800)
            window.show()
    try:
        code = app.exec()
    finally:
        bridge.detach()
        threadguard.allow_current_thread()
        orch.stop(timeout=5.0)
        lock.release()
    log.info("moorings: window closed; containers keep running")
    return int(code)

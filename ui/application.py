"""Start the window: lock the folder, show the window at once, load the core behind it, stop
cleanly."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from app.errors import StoreError
from app.orchestrator.lock import FolderLock, claim_folder
from app.paths import config_dir

if TYPE_CHECKING:
    # The core's modules load on the loader thread, after the first frame.
    from app.core import Core
    from ui.bridge import CoreBridge

log = logging.getLogger("moorings")

LOAD_ANYWAY_MS = 500

STYLE_PATH = Path(__file__).resolve().parent.parent / "resources" / "styles" / "moorings.qss"


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
    try:
        return STYLE_PATH.read_text(encoding="utf-8")
    except OSError:
        return ""


class CoreLoader(QObject):
    """Loads the core on a worker thread and hands it to ``on_loaded`` on the GUI thread."""

    loaded = Signal(object)  # a Core, or the exception that stopped the load

    def __init__(self, folder: Path, lock: FolderLock | None,
                 on_loaded: Callable[[object], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._folder = folder
        self._lock = lock
        self._on_loaded = on_loaded
        self._started = False
        # A method of this object, which lives on the GUI thread: the worker's emit is queued
        # to the GUI thread (Qt's automatic connection), with no enum to name that.
        self.loaded.connect(self._deliver)

    def start(self) -> None:
        """Start loading (once; later calls do nothing)."""
        if self._started:
            return
        self._started = True
        threading.Thread(target=self._load, name="moorings-load", daemon=True).start()

    def _deliver(self, result: object) -> None:
        self._on_loaded(result)

    def _load(self) -> None:
        try:
            self.loaded.emit(load_core(self._folder, self._lock))
        except Exception as exc:
            log.exception("loading the configuration failed")
            self.loaded.emit(exc)


def warm_gui_modules() -> None:
    """Import what the GUI thread will need once the core attaches (runs on the loader).

    Qt types whose Python enums take milliseconds to build (first used when the tree paints
    its first badge), and the page modules: a first import on the GUI thread stalls its event
    loop for tens of milliseconds.
    """
    from PySide6.QtCore import Qt  # noqa: F401
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem  # noqa: F401

    import ui.bridge
    import ui.inventory.containers_page
    import ui.inventory.images_page
    import ui.services.section  # noqa: F401  (the tree, its pages and its flows)


def load_core(folder: Path, lock: FolderLock | None = None) -> Core:
    """Import the core and read the configuration (runs on a worker thread, not the GUI's).

    ``lock`` is the folder's lock, taken before the first frame; the core releases it when it
    stops."""
    warm_gui_modules()
    from app.core import build_core

    return build_core(folder, claim=False, lock=lock, inventory=True)


def run_window(args: argparse.Namespace) -> int:
    from app.log_setup import configure_logging

    configure_logging(args.log_level)
    folder = config_dir(args.config_dir)
    try:
        lock = claim_folder(folder)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    if not args.normal_priority:
        from ui.priority import raise_window_priority

        # Before Qt and the core start their threads: they inherit it.
        log.info("%s", raise_window_priority())
    if _want_virtual_keyboard(args):
        os.environ["QT_IM_MODULE"] = "qtvirtualkeyboard"

    from PySide6.QtWidgets import QApplication

    from app import threadguard
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Moorings")
    app.setStyleSheet(load_style())
    threadguard.forbid_current_thread()
    window = MainWindow(touch=True if args.touch else None)
    from ui.window_placement import WindowPlacement, keep_focus_without_window_manager

    if keep_focus_without_window_manager(app):
        log.info("no window manager: Moorings gives its windows the keyboard itself")
    placement = WindowPlacement(window, fullscreen=bool(args.fullscreen))
    placement.show()

    loaded: list[tuple[Core, CoreBridge]] = []

    def on_loaded(result: object) -> None:
        from app.core import Core
        from ui.bridge import CoreBridge

        if isinstance(result, BaseException):
            window.show_load_error(f"Moorings could not start: {result}")
            return
        assert isinstance(result, Core)
        bridge = CoreBridge(result.orchestrator, result.inventory, result.remote)
        loaded.append((result, bridge))
        window.attach(bridge)
        result.start()
        # Everything made so far lives as long as the window: keep the collector from walking
        # it again and again (its full passes showed up as stalls of the event loop).
        gc.freeze()

    # Ctrl-C in a terminal, or SIGTERM from a service manager, closes the window cleanly.
    # Python runs signal handlers only between bytecodes, so a timer wakes it now and then.
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(250)

    loader = CoreLoader(folder, lock, on_loaded)
    # After the first frame: the loader's imports hold the GIL for long stretches, and the
    # window's first frame should not wait behind them. A window that is never painted
    # (minimised at start) still loads, a moment later.
    window.first_frame.connect(loader.start)
    QTimer.singleShot(LOAD_ANYWAY_MS, loader.start)
    try:
        code = app.exec()
    finally:
        threadguard.allow_current_thread()
        for core, bridge in loaded:
            bridge.detach()
            core.stop(timeout=5.0)  # releases the folder's lock too
        lock.release()  # (if the core never loaded; releasing twice is harmless)
    log.info("moorings: window closed; containers keep running")
    return int(code)

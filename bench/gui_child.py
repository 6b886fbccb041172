"""A child process for bench_gui.py: start a window, report when it is interactive, and its RSS.

``--mode minimal`` shows a bare QMainWindow; ``--mode moorings`` runs the real ``moorings``
command (``ui.launcher.main``: argument parsing, logging, the folder lock, the window, then the
core loaded behind it). Both report the same moment: the window's first frame has been painted
and the event loop has turned once after it. Prints ``READY <epoch>`` then, ``LOADED <epoch>``
when the configuration's instances are on screen (moorings), ``RSS <kB>`` 1.5 s after start,
and exits.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def ready() -> None:
    from PySide6.QtCore import QTimer

    print(f"READY {time.time():.6f}", flush=True)
    QTimer.singleShot(1500, report)


def report() -> None:
    from PySide6.QtWidgets import QApplication

    print(f"RSS {rss_kb()}", flush=True)
    QApplication.quit()


def run_minimal() -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QPaintEvent
    from PySide6.QtWidgets import QApplication, QMainWindow

    class Window(QMainWindow):
        painted = False

        # The moment MainWindow.first_frame reports: the first paint done, one turn later.
        def paintEvent(self, event: QPaintEvent) -> None:
            super().paintEvent(event)
            if not self.painted:
                self.painted = True
                QTimer.singleShot(0, ready)

    app = QApplication(sys.argv[:1])
    window = Window()
    window.resize(800, 480)
    window.show()
    return app.exec()


def run_moorings(config_dir: str) -> int:
    import ui.main_window
    from ui.launcher import main

    window_class = ui.main_window.MainWindow
    init, attach = window_class.__init__, window_class.attach

    # The harness listens to the window the command builds; the command itself is unchanged.
    def listening_init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.first_frame.connect(ready)

    def reporting_attach(self: Any, bridge: Any) -> None:
        attach(self, bridge)
        print(f"LOADED {time.time():.6f}", flush=True)

    window_class.__init__ = listening_init  # type: ignore[method-assign]
    window_class.attach = reporting_attach  # type: ignore[method-assign]
    return main(["--config-dir", config_dir, "--log-level", "WARNING"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["minimal", "moorings"], required=True)
    parser.add_argument("--config-dir")
    args = parser.parse_args()
    code = run_minimal() if args.mode == "minimal" else run_moorings(args.config_dir)
    sys.stdout.flush()
    os._exit(code)  # skip PySide6's teardown at exit (see scripts/screenshots.py)


if __name__ == "__main__":
    sys.exit(main())

"""A child process for bench_gui.py: start a window, report when it is interactive, and its RSS.

``--mode minimal`` shows a bare QMainWindow; ``--mode moorings`` starts Moorings as
``moorings`` does (window first, then configuration and orchestrator loaded behind it). Prints
``READY <epoch>`` once the window is shown and the event loop runs, ``LOADED <epoch>`` when the
configuration is on screen (moorings), then ``RSS <kB>`` 1.5 s after start, and exits.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["minimal", "moorings"], required=True)
    parser.add_argument("--config-dir")
    args = parser.parse_args()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    cleanup = []
    if args.mode == "minimal":
        app = QApplication(sys.argv[:1])
        window = QMainWindow()
        window.resize(800, 480)
        window.show()
    else:
        # As `moorings` does (ui/application.py): the window first, the core loaded behind it.
        from PySide6.QtCore import Qt

        from ui.application import CoreLoader, load_style
        from ui.main_window import MainWindow

        app = QApplication(sys.argv[:1])
        app.setStyleSheet(load_style())
        window = MainWindow()
        window.resize(800, 480)
        window.show()

        def on_loaded(orch: object) -> None:
            from ui.bridge import CoreBridge

            bridge = CoreBridge(orch)  # type: ignore[arg-type]
            window.attach(bridge)
            orch.start()  # type: ignore[attr-defined]
            cleanup.append(orch.stop)  # type: ignore[attr-defined]
            print(f"LOADED {time.time():.6f}", flush=True)

        loader = CoreLoader(Path(args.config_dir))
        loader.loaded.connect(on_loaded, Qt.ConnectionType.QueuedConnection)
        QTimer.singleShot(0, loader.start)  # as run_window does

    def ready() -> None:
        print(f"READY {time.time():.6f}", flush=True)
        QTimer.singleShot(1500, report)

    def report() -> None:
        print(f"RSS {rss_kb()}", flush=True)
        for fn in cleanup:
            fn()
        app.quit()

    QTimer.singleShot(0, ready)
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A bare PySide6 window whose event loop is measured like Moorings' (bench_inventory.py,
bench_gui.py): the same 5 ms stall meter, and nothing else, while the same load runs.

Runs at the normal CPU priority, or with ``--raised`` at the one the `moorings` window asks
for (ui/priority.py). Prints ``READY`` once the loop runs; measures until stdin closes, then prints
``STALLS <longest ms> <p99 ms> <over 50 ms> <over 30 ms> <ticks>`` and exits.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMainWindow
from stall import StallMeter

from ui.priority import raise_window_priority


class StdinClosed(QObject):
    closed = Signal()


def main() -> int:
    # Started by the measuring process, whose raised priority it inherits.
    os.setpriority(os.PRIO_PROCESS, 0, 0)
    if "--raised" in sys.argv:
        print(raise_window_priority(), file=sys.stderr)
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.resize(1280, 800)
    window.show()
    meter = StallMeter()
    watcher = StdinClosed()

    def finish() -> None:
        meter.stop()
        print(f"STALLS {meter.longest_stall():.1f} {meter.percentile_stall(0.99):.1f} "
              f"{meter.over(50)} {meter.over(30)} {len(meter.gaps)}", flush=True)
        meter.explain(file=sys.stderr)
        app.quit()
    watcher.closed.connect(finish)

    def wait_for_eof() -> None:
        sys.stdin.read()
        watcher.closed.emit()

    def ready() -> None:
        meter.start()
        threading.Thread(target=wait_for_eof, daemon=True).start()
        print("READY", flush=True)
    QTimer.singleShot(0, ready)
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main())

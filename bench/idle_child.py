"""A child process for bench_inventory.py: the window on the Containers section, left idle.

Prints ``READY`` once the inventory is live, then runs until terminated.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from harness import TestEnv  # noqa: E402
from orchestration import make_orchestrator  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.inventory.feed import Inventory  # noqa: E402
from ui.application import load_style  # noqa: E402
from ui.bridge import CoreBridge  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402


def main() -> int:
    app = QApplication(sys.argv[:1])
    app.setStyleSheet(load_style())
    orch = make_orchestrator(Path(sys.argv[1]), TestEnv.from_environ())
    inventory = Inventory(orch)
    bridge = CoreBridge(orch, inventory)
    window = MainWindow(bridge)
    window.resize(1280, 800)
    window.show()
    orch.start()
    inventory.start()
    window.show_section("containers")
    gc.freeze()

    def check() -> None:
        if inventory.state().state == "live":
            print("READY", flush=True)
        else:
            QTimer.singleShot(50, check)
    QTimer.singleShot(50, check)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())

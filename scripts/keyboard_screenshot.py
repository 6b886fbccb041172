"""Render the on-screen keyboard over a focused field at the touch panel's size (Xvfb).

Run by ``make screenshots``: proves that text entry works on a touch-only panel and that the
focused field stays above the keyboard. Needs no engine.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

# The input method is chosen when the application starts, as `moorings --touch` does.
os.environ["QT_IM_MODULE"] = "qtvirtualkeyboard"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ui.application import load_core, load_style  # noqa: E402
from ui.bridge import CoreBridge  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from ui.window_placement import (  # noqa: E402
    WindowPlacement,
    keep_focus_without_window_manager,
)


def main() -> int:
    app = QApplication(sys.argv[:1])
    app.setStyleSheet(load_style())
    orch = load_core(Path(tempfile.mkdtemp(prefix="moorings-shot-"))).orchestrator
    orch.repository.create_instance("gateway-sensor", values={
        "container.ports.internal": "", "container.ports.external": ""})
    window = MainWindow(CoreBridge(orch), touch=True)
    keep_focus_without_window_manager(app)
    WindowPlacement(window, fullscreen=True).show()

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)
    pump(0.5)
    window.select_instance("gateway-sensor")
    window.services.show_page()
    pump(0.5)
    page = window.instance_page
    assert page is not None
    # A multi-line text field low in the form: it must scroll up above the keyboard.
    multiline = [f for f in page.form.component.fields if f.widget == "multiline"]
    editor = page.form.editor(multiline[-1].id)
    editor.setFocus()
    pump(0.3)
    QGuiApplication.inputMethod().show()
    pump(1.5)
    size = app.primaryScreen().geometry()
    out = ROOT / "docs" / "screenshots" / f"{size.width()}x{size.height()}-10-keyboard.png"
    app.primaryScreen().grabWindow(0).save(str(out))
    visible = QGuiApplication.inputMethod().isVisible()
    print(out, "keyboard shown" if visible else "keyboard NOT shown")
    QGuiApplication.inputMethod().hide()
    pump(0.5)

    # The factory dialog while a name is typed: name, error and Create above the keyboard.
    window.show_tree()
    dialog = window.open_factory_dialog()
    pump(0.5)
    dialog.name.setFocus()
    QGuiApplication.inputMethod().show()
    pump(1.0)
    dialog.name.setText("bad name!")
    pump(1.0)
    out = ROOT / "docs" / "screenshots" / f"{size.width()}x{size.height()}-10-keyboard-dialog.png"
    app.primaryScreen().grabWindow(0).save(str(out))
    shown = QGuiApplication.inputMethod().isVisible()
    print(out, "keyboard shown" if shown else "keyboard NOT shown")
    visible = visible and shown
    sys.stdout.flush()
    os._exit(0 if visible else 1)


if __name__ == "__main__":
    sys.exit(main())

"""Child of tests/test_window_screen.py: the window with Qt's on-screen keyboard on a real X
display, driven by taps (mouse presses and releases at screen points, through the window as X
delivers them). Prints one JSON line of what it saw. Needs no engine."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

# The input method is chosen when the application starts, as `moorings --touch` does.
os.environ["QT_IM_MODULE"] = "qtvirtualkeyboard"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QPoint, QRect, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QWindow  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from ui.application import load_core, load_style  # noqa: E402
from ui.bridge import CoreBridge  # noqa: E402
from ui.keyboard import keyboard_rect  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from ui.window_placement import (  # noqa: E402
    WindowPlacement,
    keep_focus_without_window_manager,
)

app = QApplication(sys.argv[:1])


def pump(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def wait(pred: object, seconds: float = 10) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if pred():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def tap(widget: QWidget) -> None:
    """A finger's tap on the widget's centre: the press, a moment, the release at the same
    point of the screen (wherever the widget is by then)."""
    window = widget.window().windowHandle()
    assert isinstance(window, QWindow)
    at = window.mapFromGlobal(widget.mapToGlobal(widget.rect().center()))
    QTest.mousePress(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    pump(0.15)
    QTest.mouseRelease(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)


def global_rect(widget: QWidget) -> QRect:
    return QRect(widget.mapToGlobal(QPoint(0, 0)), widget.size())


def rect(r: QRect | None) -> list[int] | None:
    return None if r is None else [r.x(), r.y(), r.width(), r.height()]


# Where the keys are at 800 px wide, from the panel's top-left (Qt's English layout): the
# second row starts with a, the first with q, each key 79.6 px wide.
KEY_ROWS = ("qwertyuiop", "asdfghjkl")
KEY_PITCH = 79.6
ROW_TOP = (36, 97)
ROW_LEFT = (42, 82)


def keyboard_window() -> QWindow | None:
    """The keyboard's own window (Qt's desktop panel: a see-through window over the screen,
    with the keys at its bottom)."""
    ours = {w.windowHandle() for w in QApplication.topLevelWidgets()}
    kb = keyboard_rect()
    for w in QGuiApplication.topLevelWindows():
        if kb is not None and w.isVisible() and w not in ours and w.geometry().contains(kb):
            return w
    return None


def type_on_keyboard(text: str) -> bool:
    panel, kb = keyboard_window(), keyboard_rect()
    if panel is None or kb is None or kb.width() != 800:
        return False
    for ch in text:
        row = next(i for i, keys in enumerate(KEY_ROWS) if ch in keys)
        at = panel.mapFromGlobal(QPoint(
            round(kb.left() + ROW_LEFT[row] + KEY_ROWS[row].index(ch) * KEY_PITCH),
            kb.top() + ROW_TOP[row]))
        QTest.mousePress(panel, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
        pump(0.08)
        QTest.mouseRelease(panel, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           at)
        pump(0.25)
    return True


def main() -> int:
    app.setStyleSheet(load_style())
    keep_focus_without_window_manager(app)
    orch = load_core(Path(tempfile.mkdtemp(prefix="moorings-test-kb-"))).orchestrator
    orch.repository.create_instance("moorings-test-kb", values={
        "container.ports.internal": "", "container.ports.external": ""})
    window = MainWindow(CoreBridge(orch), touch=True)
    WindowPlacement(window, fullscreen=True).show()
    wait(lambda: window.isActiveWindow())
    pump(0.5)
    seen: dict[str, object] = {"window_active": window.isActiveWindow()}

    # A form field low in the page: one tap must open the keyboard.
    window.select_instance("moorings-test-kb")
    pump(0.5)
    page = window.instance_page
    assert page is not None
    field = page.form.editor("container.memory")
    # As a person scrolls to it: in sight, near the bottom of the panel.
    page.form.scroll_area().ensureWidgetVisible(field, 0, 10)
    pump(0.3)
    seen["field_before_tap"] = rect(global_rect(field))
    tap(field)
    seen["first_tap_focus"] = field.hasFocus()
    seen["first_tap_keyboard"] = wait(lambda: keyboard_rect() is not None, 5)
    kb = keyboard_rect()
    seen["keyboard"] = rect(kb)
    pump(0.5)
    seen["field_above_keyboard"] = kb is not None and global_rect(field).bottom() < kb.top()
    QGuiApplication.inputMethod().hide()
    wait(lambda: keyboard_rect() is None, 5)
    window.show_tree()
    pump(0.3)

    # The factory dialog: its name, error line and Create stay above the keyboard.
    window.open_factory_dialog()
    dialog = window.factory_dialog
    assert dialog is not None
    wait(lambda: dialog.isVisible() and dialog.isActiveWindow(), 5)
    pump(0.3)
    tap(dialog.name)
    seen["dialog_keyboard"] = wait(lambda: keyboard_rect() is not None, 5)
    pump(0.3)
    QTest.keyClicks(dialog.name, "bad name!")
    pump(0.8)
    kb = keyboard_rect()
    seen["dialog_error_text"] = dialog.error.text()
    seen["dialog_parts"] = {name: rect(global_rect(w)) for name, w in (
        ("name", dialog.name), ("error", dialog.error), ("create", dialog.submit))}
    seen["dialog_parts_visible"] = all(w.isVisible() for w in (dialog.name, dialog.error,
                                                               dialog.submit))
    seen["dialog_keyboard_rect"] = rect(kb)
    seen["dialog_above_keyboard"] = kb is not None and all(
        global_rect(w).bottom() < kb.top() and global_rect(w).top() >= 0
        for w in (dialog.name, dialog.error, dialog.submit))

    # Typing g, u, i on the keyboard itself: a container name is typed as it is, lowercase.
    dialog.name.clear()
    pump(0.5)
    seen["typed"] = type_on_keyboard("gui")
    seen["typed_text"] = dialog.name.text()
    print(json.dumps(seen))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())

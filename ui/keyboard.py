"""Where the on-screen keyboard is, for the windows that must keep what matters above it."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication


def keyboard_rect() -> QRect | None:
    """The on-screen keyboard's rectangle on the screen while it is shown, else None.

    Qt's virtual keyboard is a window of its own at the bottom of the screen, and reports its
    geometry in screen coordinates (whichever window has the focus).
    """
    im = QGuiApplication.inputMethod()
    if not im.isVisible():
        return None
    rect = im.keyboardRectangle().toAlignedRect()
    return rect if rect.isValid() and rect.height() > 0 else None

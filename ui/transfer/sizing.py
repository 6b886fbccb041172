"""How the import and export dialogs take the screen: the whole window on the touch panel
(every pixel of 800x480 for the rows a finger taps), a comfortable size on a laptop."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog

LAPTOP_SIZE = (720, 560)


def fit_to_window(dialog: QDialog, *, touch: bool) -> None:
    parent = dialog.parentWidget()
    window = parent.window() if parent is not None else None
    if touch and window is not None:
        dialog.setGeometry(window.geometry())
        return
    width, height = LAPTOP_SIZE
    if window is not None:
        width = min(width, window.width())
        height = min(height, window.height())
    dialog.resize(width, height)

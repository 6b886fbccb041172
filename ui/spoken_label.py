"""A label whose accessible name says what it is as well as what it says ("Status: …")."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget


class SpokenLabel(QLabel):
    """A screen reader hears ``"<role>: <text>"``, kept in step with the text; an empty
    label is still named by its role."""

    def __init__(self, role: str, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._role = role
        self.setText(text)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setAccessibleName(f"{self._role}: {text}" if text else self._role)

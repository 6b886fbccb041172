"""A masked password entry with a press-to-reveal button.

The text is shown in clear ONLY while the button is held down, and masked again as soon as it
is released (or the finger slides off it, or the widget is hidden). The password is never put
in a tooltip, a placeholder, an accessible description or a log.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QHideEvent
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QSizePolicy, QToolButton, QWidget

from ui.style import TOUCH_MIN

_SECRET_HINTS = (
    Qt.InputMethodHint.ImhHiddenText
    | Qt.InputMethodHint.ImhSensitiveData
    | Qt.InputMethodHint.ImhNoPredictiveText
    | Qt.InputMethodHint.ImhNoAutoUppercase
)


class PasswordField(QWidget):
    """A QLineEdit in Password echo mode beside a "Hold to show" QToolButton."""

    def __init__(
        self, field_id: str, field_name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"password:{field_id}")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)

        self.line_edit = QLineEdit(self)
        self.line_edit.setObjectName(f"field:{field_id}")
        self.line_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.line_edit.setInputMethodHints(_SECRET_HINTS)
        self.line_edit.setMinimumHeight(TOUCH_MIN)
        self.line_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # The name only: never the value.
        self.line_edit.setAccessibleName(field_name)
        layout.addWidget(self.line_edit, 1)

        self.reveal_button = QToolButton(self)
        self.reveal_button.setObjectName(f"reveal:{field_id}")
        self.reveal_button.setText("Hold to show")
        self.reveal_button.setToolTip("Shows the password while you hold this button down.")
        self.reveal_button.setAccessibleName(f"Hold to show {field_name}")
        self.reveal_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        # Tapping it must not take the focus (and the on-screen keyboard) from the entry.
        self.reveal_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.reveal_button.setAutoRepeat(False)
        self.reveal_button.setMinimumSize(TOUCH_MIN, TOUCH_MIN)
        self.reveal_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.reveal_button.pressed.connect(self.reveal)
        self.reveal_button.released.connect(self.conceal)
        layout.addWidget(self.reveal_button)

        self.setFocusProxy(self.line_edit)

    def reveal(self) -> None:
        self.line_edit.setEchoMode(QLineEdit.EchoMode.Normal)

    def conceal(self) -> None:
        self.line_edit.setEchoMode(QLineEdit.EchoMode.Password)

    def is_revealed(self) -> bool:
        return self.line_edit.echoMode() != QLineEdit.EchoMode.Password

    def hideEvent(self, event: QHideEvent) -> None:
        # A page switch while the button is held must not leave the password readable.
        self.conceal()
        super().hideEvent(event)

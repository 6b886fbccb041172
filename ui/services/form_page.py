"""A page that edits one component: a title, a status area, the generated form, and buttons."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.config.model import Scalar
from app.metatype import ComponentDescriptor
from ui.form import ComponentForm
from ui.spoken_label import SpokenLabel
from ui.style import TOUCH_MIN, set_style_property


class FormPage(QWidget):
    """Apply stays disabled while the form is invalid or unchanged; the bar never scrolls away."""

    apply_requested = Signal()
    reset_requested = Signal()

    def __init__(self, component: ComponentDescriptor, name: str | None, object_prefix: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.component = component
        self._busy = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(6)

        head = QHBoxLayout()
        self.title = QLabel(name or component.name)
        self.title.setObjectName("page-title")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.badge = QLabel("")
        self.badge.setObjectName("badge")
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        head.addWidget(self.title, 1)
        head.addWidget(self.badge, 0)
        outer.addLayout(head)

        self.status_line = SpokenLabel("Status")
        self.status_line.setObjectName("status-line")
        self.status_line.setWordWrap(True)
        self.status_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_line.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        outer.addWidget(self.status_line)
        self.extra = QVBoxLayout()
        outer.addLayout(self.extra)

        self.form = ComponentForm(component, name)
        outer.addWidget(self.form, 1)

        # Subclasses may put another body in place of the form, above the button bar.
        self.bar_anchor = QWidget()
        self.bar_anchor.setFixedHeight(0)
        outer.addWidget(self.bar_anchor)
        self.bar = QHBoxLayout()
        self.bar.setSpacing(8)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName(f"{object_prefix}apply")
        self.apply_button.setMinimumHeight(TOUCH_MIN)
        self.apply_button.setDefault(True)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setObjectName(f"{object_prefix}reset")
        self.reset_button.setMinimumHeight(TOUCH_MIN)
        self.bar.addWidget(self.apply_button)
        self.bar.addWidget(self.reset_button)
        self.bar.addStretch(1)
        outer.addLayout(self.bar)

        self.apply_button.clicked.connect(self.apply_requested)
        self.reset_button.clicked.connect(self._on_reset)
        self.form.changed.connect(self._refresh_buttons)
        # Stored values shown (an Apply that went through, a Reset): nothing is unapplied.
        self.form.loaded.connect(self._refresh_buttons)
        # A bound method, not a lambda: PySide6 6.12 drops a reference to the bool argument
        # when a lambda receives it, and the interpreter aborts at exit.
        self.form.validity_changed.connect(self._on_validity_changed)
        self._refresh_buttons()

    def _on_validity_changed(self, _valid: bool) -> None:
        self._refresh_buttons()

    def set_busy(self, busy: bool) -> None:
        """While an apply is under way, its button says so and cannot be pressed twice."""
        self._busy = busy
        self.apply_button.setText("Applying…" if busy else "Apply")
        self._refresh_buttons()

    def _on_reset(self) -> None:
        self.form.reset()
        self.reset_requested.emit()
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        dirty = self.form.is_dirty()
        # The verdict of the last check, not a new one at every key: the form checks once the
        # typing pauses, and Apply checks whatever changed since.
        self.apply_button.setEnabled(not self._busy and dirty and self.form.checked_valid())
        self.reset_button.setEnabled(not self._busy and dirty)

    def watch_security(self, warning_for: Callable[[dict[str, Scalar]], str | None]) -> QLabel:
        """A warning line that says, as the settings are edited (before anything is applied),
        what ``warning_for`` finds unsafe in the form's values."""
        label = QLabel("")
        label.setObjectName("form-security-warning")
        label.setWordWrap(True)
        label.setAccessibleName("Security warning")
        label.setVisible(False)
        self.extra.addWidget(label)

        def check() -> None:
            warning = warning_for(cast("dict[str, Scalar]", self.form.values()))
            label.setText(f"⚠ {warning}" if warning else "")
            label.setVisible(bool(warning))
        self.form.changed.connect(check)
        self.form.loaded.connect(check)
        check()
        return label

    def set_badge(self, text: str, key: str) -> None:
        """The badge's word, and its colour by ``key`` (the ``badge`` rules of the style
        sheet: ``ui.style.BADGE_TONES``)."""
        self.badge.setText(text)
        set_style_property(self.badge, "badge", key)

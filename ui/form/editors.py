"""One editor per field descriptor, chosen from the descriptor's type and hints only.

Every editor is a :class:`FieldEditor`: it owns the input widget (object name
``field:<id>``), the row that the form lays out (the input and its buttons, unit, ...),
turns the stored value into what the widget shows and the widget's content back into a typed
value, and emits ``edited`` only when the person changed it (never on :meth:`set_value`).
"""

from __future__ import annotations

import contextlib
import math

from PySide6.QtCore import QObject, QRegularExpression, Qt, Signal
from PySide6.QtGui import QFont, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QStyledItemDelegate,
    QToolButton,
    QWidget,
)

from app.metatype import FieldDescriptor, FieldType
from ui.form.password import PasswordField
from ui.form.touch_widgets import GrowingPlainTextEdit, ToggleSwitch, TouchComboBox
from ui.input_hints import NUMERIC_TEXT, hints_for
from ui.style import TOUCH_MIN


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_float(value)
    return str(value)


def format_float(value: float) -> str:
    """A float as a person would type it: 2 rather than 2.0, 1.5 as 1.5."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def humanize_duration(value: int, unit: str | None) -> str:
    """``30000`` ms -> ``"30 s"``; ``500`` s -> ``"8 min 20 s"``; "" when it adds nothing."""
    if unit == "ms":
        if value < 1000:
            return ""
        seconds_f = value / 1000
        if seconds_f < 60:
            return f"{format_float(round(seconds_f, 1))} s"
        seconds = int(seconds_f)
    elif unit == "s":
        if value < 60:
            return ""
        seconds = value
    else:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours} h")
    if minutes:
        parts.append(f"{minutes} min")
    if secs:
        parts.append(f"{secs} s")
    return " ".join(parts)


class FieldEditor(QObject):
    """The editor of one field: its input widget, its row, and typed value conversion."""

    edited = Signal()
    """The person changed the value (not emitted by :meth:`set_value`)."""

    def __init__(self, desc: FieldDescriptor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desc = desc
        self._loading = False

    # What subclasses provide -------------------------------------------------------------
    @property
    def widget(self) -> QWidget:
        """The input widget itself (object name ``field:<id>``)."""
        raise NotImplementedError

    @property
    def row(self) -> QWidget:
        """What the form lays out: the input with its buttons, unit, ... (may be ``widget``)."""
        return self.widget

    def value(self) -> object:
        raise NotImplementedError

    def _show(self, value: object) -> None:
        raise NotImplementedError

    # Shared behaviour --------------------------------------------------------------------
    def set_value(self, value: object) -> None:
        """Show a stored value; the person did not edit anything, so ``edited`` stays quiet."""
        self._loading = True
        try:
            self._show(value)
        finally:
            self._loading = False

    def _person_edited(self, *_: object) -> None:
        if not self._loading:
            self.edited.emit()

    def focus_widgets(self) -> list[QWidget]:
        """The widgets that take the keyboard focus (the form scrolls them into view)."""
        return [self.widget]

    def _name(self, widget: QWidget) -> None:
        widget.setObjectName(f"field:{self.desc.id}")
        widget.setAccessibleName(self.desc.name)
        if not self.desc.is_secret:
            widget.setAccessibleDescription(self.desc.description)


class BoolEditor(FieldEditor):
    def __init__(self, desc: FieldDescriptor, parent: QWidget | None = None) -> None:
        super().__init__(desc, parent)
        self._row = QWidget(parent)
        layout = QHBoxLayout(self._row)
        layout.setContentsMargins(0, 0, 0, 0)
        self.switch = ToggleSwitch(self._row)
        self._name(self.switch)
        layout.addWidget(self.switch)
        layout.addStretch(1)
        self.switch.toggled.connect(self._person_edited)

    @property
    def widget(self) -> QWidget:
        return self.switch

    @property
    def row(self) -> QWidget:
        return self._row

    def value(self) -> object:
        return self.switch.isChecked()

    def _show(self, value: object) -> None:
        on = value.strip().lower() == "true" if isinstance(value, str) else bool(value)
        self.switch.setChecked(on)


class TextEditor(FieldEditor):
    def __init__(self, desc: FieldDescriptor, parent: QWidget | None = None) -> None:
        super().__init__(desc, parent)
        self.line_edit = QLineEdit(parent)
        self._name(self.line_edit)
        self.line_edit.setMinimumHeight(TOUCH_MIN)
        self.line_edit.setInputMethodHints(hints_for(desc.syntax, desc.role))
        if desc.type is FieldType.CHAR:
            self.line_edit.setMaxLength(1)
        self.line_edit.textChanged.connect(self._person_edited)

    @property
    def widget(self) -> QWidget:
        return self.line_edit

    def value(self) -> object:
        return self.line_edit.text()

    def _show(self, value: object) -> None:
        self.line_edit.setText(_as_text(value))
        self.line_edit.setCursorPosition(0)


class MultilineEditor(FieldEditor):
    def __init__(self, desc: FieldDescriptor, parent: QWidget | None = None) -> None:
        super().__init__(desc, parent)
        self.text_edit = GrowingPlainTextEdit(parent)
        self._name(self.text_edit)
        self.text_edit.setInputMethodHints(hints_for(desc.syntax, desc.role))
        self.text_edit.textChanged.connect(self._person_edited)

    @property
    def widget(self) -> QWidget:
        return self.text_edit

    def value(self) -> object:
        return self.text_edit.toPlainText()

    def _show(self, value: object) -> None:
        self.text_edit.setPlainText(_as_text(value))


class PasswordEditor(FieldEditor):
    def __init__(self, desc: FieldDescriptor, parent: QWidget | None = None) -> None:
        super().__init__(desc, parent)
        self.field = PasswordField(desc.id, desc.name, parent)
        self.field.line_edit.textChanged.connect(self._person_edited)

    @property
    def widget(self) -> QWidget:
        return self.field.line_edit

    @property
    def row(self) -> QWidget:
        return self.field

    @property
    def reveal_button(self) -> QToolButton:
        return self.field.reveal_button

    def value(self) -> object:
        return self.field.line_edit.text()

    def _show(self, value: object) -> None:
        self.field.conceal()
        self.field.line_edit.setText(_as_text(value))


class ChoiceEditor(FieldEditor):
    """A fixed choice: the option labels are shown, their values are stored."""

    NONE_LABEL = "(none)"

    def __init__(self, desc: FieldDescriptor, parent: QWidget | None = None) -> None:
        super().__init__(desc, parent)
        self._row = QWidget(parent)
        layout = QHBoxLayout(self._row)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo = TouchComboBox(self._row)
        self._name(self.combo)
        self.combo.setMinimumHeight(TOUCH_MIN)
        self.combo.setMinimumWidth(220)
        self.combo.setMaximumWidth(420)
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # A styled delegate lets the style sheet give the popup's items touch-sized heights.
        self.combo.setItemDelegate(QStyledItemDelegate(self.combo))
        self.combo.setMaxVisibleItems(8)
        if not desc.required and all(o.value for o in desc.options):
            self.combo.addItem(self.NONE_LABEL, "")
        for opt in desc.options:
            self.combo.addItem(opt.label, opt.value)
        self._base_count = self.combo.count()
        layout.addWidget(self.combo, 1)
        layout.addStretch(0)
        self.combo.currentIndexChanged.connect(self._person_edited)

    @property
    def widget(self) -> QWidget:
        return self.combo

    @property
    def row(self) -> QWidget:
        return self._row

    def value(self) -> object:
        data = self.combo.currentData()
        return "" if data is None else str(data)

    def _show(self, value: object) -> None:
        # A value that is not one of the choices (say, from an imported file) is kept and
        # shown as such, so that saving the form never silently changes it.
        while self.combo.count() > self._base_count:
            self.combo.removeItem(self.combo.count() - 1)
        text = _as_text(value)
        index = self.combo.findData(text)
        if index < 0:
            for i in range(self.combo.count()):
                if str(self.combo.itemData(i)).lower() == text.strip().lower():
                    index = i
                    break
        if index < 0:
            self.combo.addItem(f"{text} (not a listed choice)", text)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(index)


class _NumberEditor(FieldEditor):
    """A QLineEdit that accepts what the type allows, the unit beside it, and for whole
    numbers −/+ steppers; an empty entry stays empty (allowed when the field is optional)."""

    ENTRY_WIDTH = 220

    def __init__(self, desc: FieldDescriptor, pattern: str, parent: QWidget | None = None) -> None:
        super().__init__(desc, parent)
        self._row = QWidget(parent)
        layout = QHBoxLayout(self._row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.line_edit = QLineEdit(self._row)
        self._name(self.line_edit)
        self.line_edit.setMinimumHeight(TOUCH_MIN)
        # One width for every number, so the steppers line up from row to row.
        self.line_edit.setFixedWidth(self.ENTRY_WIDTH)
        self.line_edit.setValidator(
            QRegularExpressionValidator(QRegularExpression(pattern), self.line_edit)
        )
        layout.addWidget(self.line_edit)
        self._layout = layout
        self.unit_label: QLabel | None = None
        self.line_edit.textChanged.connect(self._person_edited)

    @property
    def widget(self) -> QWidget:
        return self.line_edit

    @property
    def row(self) -> QWidget:
        return self._row

    def _finish_row(self) -> None:
        """The unit after the entry (and after the steppers, which then line up)."""
        if self.desc.unit:
            self.unit_label = QLabel(self.desc.unit, self._row)
            self.unit_label.setObjectName(f"unit:{self.desc.id}")
            self.unit_label.setProperty("formRole", "unit")
            self._layout.addSpacing(4)
            self._layout.addWidget(self.unit_label)
        self._layout.addStretch(1)


class IntegerEditor(_NumberEditor):
    def __init__(self, desc: FieldDescriptor, parent: QWidget | None = None) -> None:
        lo, hi = desc.type.integral_limits
        if desc.min:
            with contextlib.suppress(ValueError):
                lo = max(lo, math.ceil(float(desc.min)))
        if desc.max:
            with contextlib.suppress(ValueError):
                hi = min(hi, math.floor(float(desc.max)))
        self.minimum, self.maximum = lo, hi
        sign = "[+-]?" if lo < 0 else r"\+?"
        digits = len(str(max(abs(lo), abs(hi))))
        super().__init__(desc, rf"^{sign}\d{{0,{digits}}}$", parent)
        hints = Qt.InputMethodHint.ImhFormattedNumbersOnly if lo < 0 \
            else Qt.InputMethodHint.ImhDigitsOnly
        self.line_edit.setInputMethodHints(hints)
        # Big steps for milliseconds: nobody taps a thousand times for one second.
        self.step = 1000 if desc.unit == "ms" else 1
        self.down_button = self._stepper("−", f"step-down:{desc.id}", -1)
        self.up_button = self._stepper("+", f"step-up:{desc.id}", +1)
        self._layout.addWidget(self.down_button)
        self._layout.addWidget(self.up_button)
        self._finish_row()
        self.human_label: QLabel | None = None
        if desc.unit in ("ms", "s"):
            self.human_label = QLabel("", self._row)
            self.human_label.setObjectName(f"duration:{desc.id}")
            self.human_label.setProperty("formRole", "unit")
            self._layout.insertWidget(self._layout.count() - 1, self.human_label)
        self.line_edit.textChanged.connect(self._refresh)
        self._refresh()

    def _stepper(self, text: str, name: str, direction: int) -> QToolButton:
        button = QToolButton(self._row)
        button.setObjectName(name)
        button.setText(text)
        button.setProperty("formRole", "stepper")
        font = QFont(button.font())
        font.setBold(True)
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 1.4)
        button.setFont(font)
        button.setAccessibleName(
            f"{'Decrease' if direction < 0 else 'Increase'} {self.desc.name}"
        )
        button.setMinimumSize(TOUCH_MIN + 12, TOUCH_MIN)
        button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setAutoRepeat(True)
        button.setAutoRepeatDelay(500)
        button.setAutoRepeatInterval(90)
        button.clicked.connect(lambda: self.step_by(direction))
        return button

    def _current(self) -> int | None:
        text = self.line_edit.text().strip()
        try:
            return int(text)
        except ValueError:
            return None

    def step_by(self, direction: int) -> None:
        current = self._current()
        if current is None:
            default = self.desc.effective_default() or ""
            try:
                current = int(default.strip())
            except ValueError:
                current = max(self.minimum, min(0, self.maximum))
            new = current
        else:
            new = current + direction * self.step
            if self.step > 1 and new % self.step:
                # Land on round numbers: 30500 - 1000 -> 30000, not 29500.
                new = (current // self.step + (1 if direction > 0 else 0)) * self.step
        new = max(self.minimum, min(self.maximum, new))
        self.line_edit.setText(str(new))

    def _refresh(self, *_: object) -> None:
        current = self._current()
        self.down_button.setEnabled(current is None or current > self.minimum)
        self.up_button.setEnabled(current is None or current < self.maximum)
        if self.human_label is not None:
            human = humanize_duration(current, self.desc.unit) if current is not None else ""
            self.human_label.setText(f"({human})" if human else "")

    def value(self) -> object:
        text = self.line_edit.text().strip()
        if not text:
            return ""
        try:
            return int(text)
        except ValueError:
            return self.line_edit.text()

    def _show(self, value: object) -> None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        self.line_edit.setText(_as_text(value))


class DecimalEditor(_NumberEditor):
    def __init__(self, desc: FieldDescriptor, parent: QWidget | None = None) -> None:
        try:
            negative = desc.min in (None, "") or float(desc.min or 0) < 0
        except ValueError:
            negative = True
        sign = "[+-]?" if negative else r"\+?"
        super().__init__(desc, rf"^{sign}\d*\.?\d*$", parent)
        self.line_edit.setInputMethodHints(NUMERIC_TEXT
                                           | Qt.InputMethodHint.ImhFormattedNumbersOnly)
        self._finish_row()

    def value(self) -> object:
        text = self.line_edit.text().strip()
        if not text:
            return ""
        try:
            number = float(text)
        except ValueError:
            return self.line_edit.text()
        return number if math.isfinite(number) else self.line_edit.text()

    def _show(self, value: object) -> None:
        self.line_edit.setText(_as_text(value))


def create_editor(desc: FieldDescriptor, parent: QWidget | None = None) -> FieldEditor:
    """The editor that suits ``desc``, from its type and hints (never from its id)."""
    if desc.type is FieldType.BOOLEAN:
        return BoolEditor(desc, parent)
    if desc.options:
        return ChoiceEditor(desc, parent)
    if desc.type is FieldType.PASSWORD:
        return PasswordEditor(desc, parent)
    if desc.type.is_integral:
        return IntegerEditor(desc, parent)
    if desc.type.is_decimal:
        return DecimalEditor(desc, parent)
    if desc.widget == "multiline":
        return MultilineEditor(desc, parent)
    return TextEditor(desc, parent)


__all__ = [
    "BoolEditor",
    "ChoiceEditor",
    "DecimalEditor",
    "FieldEditor",
    "IntegerEditor",
    "MultilineEditor",
    "PasswordEditor",
    "TextEditor",
    "create_editor",
    "format_float",
    "humanize_duration",
]

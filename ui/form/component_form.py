"""The form of one component, generated only from its field descriptors.

Nothing here knows a field id: the editor comes from the AD's type and hints, what the field
means (the privileged confirmation) from its ``role``, and the checks are the core's
:func:`app.config.model.validate`, run ~200 ms after the person stops typing. The form keeps
the last verdict: Apply asks for it again only if something changed since.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFocusEvent, QFont, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QScrollArea,
    QScroller,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.config.model import Scalar, default_values
from app.config.model import validate as validate_values
from app.errors import FieldError
from app.metatype import ComponentDescriptor, FieldDescriptor, FieldType
from ui.form.editors import FieldEditor, create_editor
from ui.keyboard import keyboard_rect
from ui.style import BAD, MUTED, TOUCH_MIN, repolish

DEBOUNCE_MS = 200
CONTENT_MAX_WIDTH = 900
PRIVILEGED_ROLE = "privileged"
SMALL_SCREEN_HEIGHT = 600
"""A screen this tall or less is a touch panel: the focused field is scrolled to the top."""


@dataclass
class _Field:
    desc: FieldDescriptor
    editor: FieldEditor
    block: QWidget
    error_label: QLabel


def default_text(desc: FieldDescriptor) -> str:
    """What the form says of a field's default: "Default: 80:tcp", "Default: empty", ..."""
    text = desc.effective_default()
    if desc.is_secret:
        return "Default: empty" if not text else "Default: set (hidden)"
    if text is None or text == "":
        return "Default: empty"
    if desc.type is FieldType.BOOLEAN:
        return "Default: On" if text.strip().lower() == "true" else "Default: Off"
    for opt in desc.options:
        if opt.value == text:
            text = opt.label
            break
    if desc.unit:
        text = f"{text} {desc.unit}"
    return f"Default: {text}"


class ComponentForm(QWidget):
    """Edits one component's values; one editor per AD, in the descriptor's order."""

    changed = Signal()
    """After any edit by the person."""
    validity_changed = Signal(bool)
    loaded = Signal()
    """After :meth:`set_values` (or :meth:`reset`): the shown values are the new baseline."""

    def __init__(
        self,
        component: ComponentDescriptor,
        instance_name: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("form")
        self._component = component
        self._instance_name = instance_name
        self._fields: dict[str, _Field] = {}
        self._stored: dict[str, Scalar] = {}
        self._baseline: dict[str, object] = {}
        self._valid: bool | None = None
        # The last check: (instance name, values, errors). Checking is the core's whole
        # validation: once per pause in typing, not again at Apply for the same values.
        self._checked: tuple[str | None, dict[str, object], list[FieldError]] | None = None
        self._pending_view: QWidget | None = None  # focused by a press; scrolled on release

        self._timer = QTimer(self)
        self._timer.setObjectName("form-debounce")
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.validate)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        # Problems that belong to no field (the instance name, say): always in sight, on top.
        self._message = QLabel(self)
        self._message.setObjectName("form-message")
        self._message.setProperty("formRole", "form-error")
        self._message.setWordWrap(True)
        self._message.setTextFormat(Qt.TextFormat.PlainText)
        self._message.setContentsMargins(12, 8, 12, 8)
        self._message.setVisible(False)
        _paint_error(self._message)
        outer.addWidget(self._message)

        self._scroll = QScrollArea(self)
        self._scroll.setObjectName("form-scroll")
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Not a tab stop: Tab goes from field to field, each scrolled into view as it comes.
        self._scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # A finger drag scrolls the form on a touch panel (mouse drags still select text).
        QScroller.grabGesture(self._scroll.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self._scroll.viewport().installEventFilter(self)
        QGuiApplication.inputMethod().keyboardRectangleChanged.connect(self._on_keyboard_moved)
        QGuiApplication.inputMethod().visibleChanged.connect(self._on_keyboard_moved)
        outer.addWidget(self._scroll, 1)

        host = QWidget()
        host.setObjectName("form-host")
        host_layout = QHBoxLayout(host)
        host_layout.setContentsMargins(0, 0, 0, 0)
        content = QWidget(host)
        content.setObjectName("form-content")
        content.setMaximumWidth(CONTENT_MAX_WIDTH)
        content.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        # Full width on the panel; on a wide screen the column stops at CONTENT_MAX_WIDTH
        # and the side spacers (stretch 1 against the column's 1000) take the rest.
        host_layout.addStretch(1)
        host_layout.addWidget(content, 1000)
        host_layout.addStretch(1)
        self._content = content

        column = QVBoxLayout(content)
        column.setContentsMargins(16, 12, 16, 24)
        column.setSpacing(6)
        for i, desc in enumerate(component.fields):
            if i:
                column.addWidget(_separator(content))
            field = self._build_field(desc, content)
            self._fields[desc.id] = field
            column.addWidget(field.block)
        column.addStretch(1)
        self._scroll.setWidget(host)

        self.set_values(default_values(component))

    # Building ----------------------------------------------------------------------------
    def _build_field(self, desc: FieldDescriptor, parent: QWidget) -> _Field:
        block = QWidget(parent)
        block.setObjectName(f"row:{desc.id}")
        layout = QVBoxLayout(block)
        layout.setContentsMargins(0, 6, 0, 6)
        layout.setSpacing(4)

        header = QHBoxLayout()
        header.setSpacing(10)
        name = QLabel(desc.name, block)
        name.setObjectName(f"name:{desc.id}")
        name.setProperty("formRole", "name")
        name.setTextFormat(Qt.TextFormat.PlainText)
        font = QFont(name.font())
        font.setBold(True)
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 1.1)
        name.setFont(font)
        header.addWidget(name)
        if desc.required and desc.type is not FieldType.BOOLEAN:
            # (A switch always has a value: "Required" would only be noise there.)
            req = QLabel("Required", block)
            req.setObjectName(f"required:{desc.id}")
            req.setProperty("formRole", "required")
            header.addWidget(req)
        header.addStretch(1)
        default = QLabel(default_text(desc), block)
        default.setObjectName(f"default:{desc.id}")
        default.setProperty("formRole", "default")
        default.setTextFormat(Qt.TextFormat.PlainText)
        default.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        _paint_muted(default)
        header.addWidget(default)
        layout.addLayout(header)

        if desc.description:
            help_label = QLabel(desc.description, block)
            help_label.setObjectName(f"help:{desc.id}")
            help_label.setProperty("formRole", "help")
            help_label.setTextFormat(Qt.TextFormat.PlainText)
            help_label.setWordWrap(True)
            _paint_muted(help_label)
            layout.addWidget(help_label)

        editor = create_editor(desc, block)
        layout.addSpacing(2)
        layout.addWidget(editor.row)
        name.setBuddy(editor.widget)

        error = QLabel(block)
        error.setObjectName(f"error:{desc.id}")
        error.setProperty("formRole", "error")
        error.setTextFormat(Qt.TextFormat.PlainText)
        error.setWordWrap(True)
        error.setVisible(False)
        bold = QFont(error.font())
        bold.setBold(True)
        error.setFont(bold)
        _paint_error(error)
        layout.addWidget(error)

        editor.edited.connect(lambda field_id=desc.id: self._on_edited(field_id))
        for w in editor.focus_widgets():
            w.installEventFilter(self)
        return _Field(desc, editor, block, error)

    # Public API --------------------------------------------------------------------------
    def set_values(self, values: Mapping[str, Scalar]) -> None:
        """Show the stored values (missing ones take their default); clears dirty and errors."""
        self._timer.stop()
        stored = default_values(self._component)
        for key, value in values.items():
            if key in self._fields:
                stored[key] = value
        for field_id, field in self._fields.items():
            field.editor.set_value(stored[field_id])
        self._stored = stored
        self._baseline = self.values()
        self._display([])
        self._set_valid(self.is_valid())
        self.loaded.emit()

    def replace_stored(self, values: Mapping[str, Scalar]) -> None:
        """The stored values changed under the person's edits (another program saved): the
        edits stay on screen, and Reset now goes to the new stored values."""
        stored = default_values(self._component)
        stored.update((k, v) for k, v in values.items() if k in self._fields)
        self._stored = stored

    def values(self) -> dict[str, object]:
        """What the person entered, per field id, typed where the editor knows the type."""
        return {field_id: f.editor.value() for field_id, f in self._fields.items()}

    def is_dirty(self) -> bool:
        return self.values() != self._baseline

    def validate(self) -> list[FieldError]:
        """Check the entered values with the core; show each error at its field."""
        self._timer.stop()
        errors = self._check()
        self._display(errors)
        self._set_valid(not errors)
        return list(errors)

    def is_valid(self) -> bool:
        """Whether the entered values pass the core's checks now (nothing is shown)."""
        return not self._check()

    def checked_valid(self) -> bool:
        """Whether the values passed the last check, without checking again (the debounce
        checks after each pause in typing; :meth:`validate` checks what changed since)."""
        return bool(self._valid)

    def _check(self) -> list[FieldError]:
        """The core's verdict on the entered values: the last one while nothing changed."""
        values = self.values()
        last = self._checked
        if last is not None and last[0] == self._instance_name and last[1] == values:
            return last[2]
        errors = list(validate_values(self._component, values, self._instance_name).errors)
        self._checked = (self._instance_name, values, errors)
        return errors

    def show_errors(self, errors: Sequence[FieldError]) -> None:
        """Show errors found elsewhere (e.g. a ConfigError): each at its field, the others
        (a field this form does not have, such as the instance name) at the top."""
        self._display(errors)

    def editor(self, field_id: str) -> QWidget:
        """The input widget of a field (object name ``field:<id>``)."""
        return self._fields[field_id].editor.widget

    def field_editor(self, field_id: str) -> FieldEditor:
        """The :class:`FieldEditor` of a field (its row, buttons and value conversion)."""
        return self._fields[field_id].editor

    def error_label(self, field_id: str) -> QLabel:
        return self._fields[field_id].error_label

    def form_message(self) -> QLabel:
        """The form-level message at the top (errors of no field of this form)."""
        return self._message

    def reset(self) -> None:
        """Back to the values of the last :meth:`set_values`."""
        self.set_values(self._stored)

    def set_instance_name(self, name: str | None) -> None:
        """The name the instance is checked under (for a new instance being named)."""
        self._instance_name = name
        self._timer.start()

    @property
    def component(self) -> ComponentDescriptor:
        return self._component

    # Behaviour ---------------------------------------------------------------------------
    def _on_edited(self, field_id: str) -> None:
        field = self._fields[field_id]
        desc = field.desc
        if (
            desc.role == PRIVILEGED_ROLE
            and desc.type is FieldType.BOOLEAN
            and field.editor.value() is True
        ):
            title = f"Turn on {desc.name}?"
            if not self._confirm_privileged(desc.description, title):
                field.editor.set_value(False)
                return
        self._timer.start()
        self.changed.emit()

    def _confirm_privileged(self, text: str, title: str = "") -> bool:
        """Ask the person to confirm turning on what ``text`` describes; True to go ahead.

        Tests replace this method (or accept/reject the box named "confirm-privileged").
        """
        box = QMessageBox(self)
        box.setObjectName("confirm-privileged")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(title or "Please confirm")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(f"<b>{html.escape(title or 'Turn this on?')}</b>")
        box.setInformativeText(text)
        accept = box.addButton("Turn on", QMessageBox.ButtonRole.AcceptRole)
        accept.setObjectName("confirm-privileged-accept")
        cancel = box.addButton("Keep off", QMessageBox.ButtonRole.RejectRole)
        cancel.setObjectName("confirm-privileged-reject")
        for button in (accept, cancel):
            button.setMinimumHeight(TOUCH_MIN)
            button.setMinimumWidth(120)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        # QMessageBox sizes itself to its text: give the warning room to read on one screen.
        info_label = box.findChild(QLabel, "qt_msgbox_informativelabel")
        if info_label is not None:
            info_label.setTextFormat(Qt.TextFormat.PlainText)  # a description is not markup
            info_label.setMinimumWidth(min(440, max(280, self.width() - 160)))
        box.exec()
        confirmed = box.clickedButton() is accept
        box.deleteLater()
        return confirmed

    def _set_valid(self, valid: bool) -> None:
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)

    def _display(self, errors: Sequence[FieldError]) -> None:
        by_field: dict[str, list[str]] = {}
        elsewhere: list[str] = []
        for err in errors:
            field = self._fields.get(err.field_id)
            if field is None:
                elsewhere.append(f"{err.field_name}: {err.message}")
            else:
                by_field.setdefault(err.field_id, []).append(self._error_text(err, field))
        for field_id, field in self._fields.items():
            lines = by_field.get(field_id, [])
            field.error_label.setText("\n".join(lines))
            field.error_label.setVisible(bool(lines))
            invalid = bool(lines)
            widget = field.editor.widget
            if bool(widget.property("invalid")) != invalid:
                widget.setProperty("invalid", invalid)
                repolish(widget)
        self._message.setText("\n".join(elsewhere))
        self._message.setVisible(bool(elsewhere))

    def _error_text(self, err: FieldError, field: _Field) -> str:
        message = err.message.strip()
        if field.desc.is_secret:
            # Never echo a secret: not its items, not the value inside a message.
            secret = str(field.editor.value())
            if secret:
                message = message.replace(secret, "••••")
            return message
        item = err.item
        if item is not None and item.strip() and item not in message:
            message = f"“{item}”: {message}"
        return message

    # Keep the focused editor in sight (an on-screen keyboard must never hide it) ---------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._pending_view is not None and event.type() in (
                QEvent.Type.MouseButtonRelease, QEvent.Type.TouchEnd, QEvent.Type.TouchCancel):
            # (Seen by the application-wide filter, whichever widget has the release.)
            self._scroll_after_release()
            return False
        if event.type() == QEvent.Type.FocusIn and isinstance(watched, QWidget):
            if (isinstance(event, QFocusEvent)
                    and event.reason() == Qt.FocusReason.MouseFocusReason
                    and QApplication.mouseButtons() != Qt.MouseButton.NoButton):
                # A finger is still on the field: scrolling now moves the field from under
                # it, and the release (which opens the on-screen keyboard on a tap) misses
                # it. Scroll once the finger is lifted.
                self._pending_view = watched
                app = QApplication.instance()
                if app is not None:
                    app.installEventFilter(self)
            else:
                QTimer.singleShot(0, self, lambda w=watched: self._bring_into_view(w))
        elif event.type() == QEvent.Type.Resize and watched is self._scroll.viewport():
            focused = QApplication.focusWidget()
            if focused is not None and self._content.isAncestorOf(focused):
                QTimer.singleShot(0, self, lambda w=focused: self._bring_into_view(w))
        return super().eventFilter(watched, event)

    def _scroll_after_release(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        widget, self._pending_view = self._pending_view, None
        if widget is not None:
            # After the release has reached the field (filters run before it).
            QTimer.singleShot(0, self, lambda w=widget: self._bring_into_view(w))

    def _on_keyboard_moved(self) -> None:
        focused = QApplication.focusWidget()
        if focused is not None and self._content.isAncestorOf(focused):
            QTimer.singleShot(0, self, lambda w=focused: self._bring_into_view(w))

    def _visible_bottom(self) -> int:
        """The lowest viewport row that no on-screen keyboard covers."""
        viewport = self._scroll.viewport()
        bottom = viewport.height()
        kb = keyboard_rect()
        if kb is not None:
            top = viewport.mapFromGlobal(kb.topLeft()).y()
            bottom = max(TOUCH_MIN, min(bottom, top))
        return bottom

    def _bring_into_view(self, widget: QWidget) -> None:
        """Scroll so the focused editor (with its name, help and error when they fit) is in
        sight above any on-screen keyboard. On a small panel the field goes to the top, where
        a keyboard that slides up over the window cannot hide it."""
        if not self._content.isAncestorOf(widget):
            return
        block = widget.parentWidget()
        while block is not None and not block.objectName().startswith("row:"):
            block = block.parentWidget()
        viewport = self._scroll.viewport()
        bar = self._scroll.verticalScrollBar()
        visible = self._visible_bottom()
        margin = 8
        target = block if block is not None and block.height() + 2 * margin <= visible else widget
        top = target.mapTo(viewport, target.rect().topLeft()).y()
        bottom = top + target.height()
        editor_bottom = widget.mapTo(viewport, widget.rect().bottomLeft()).y()
        low_on_small_panel = self._small_screen() and editor_bottom > visible // 2
        if low_on_small_panel or top < 0:
            bar.setValue(bar.value() + top - margin)
        elif bottom > visible - margin:
            bar.setValue(bar.value() + bottom - (visible - margin))
        # Whatever happened above, the editor itself must be in sight.
        top = widget.mapTo(viewport, widget.rect().topLeft()).y()
        if top < 0 or top + widget.height() > visible:
            bar.setValue(bar.value() + top - margin)

    def _small_screen(self) -> bool:
        screen = self.screen()
        return screen is not None and screen.availableGeometry().height() <= SMALL_SCREEN_HEIGHT

    def scroll_area(self) -> QScrollArea:
        return self._scroll


def _separator(parent: QWidget) -> QFrame:
    line = QFrame(parent)
    line.setObjectName("form-separator")
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Plain)
    line.setProperty("formRole", "separator")
    return line


def _paint_error(label: QLabel) -> None:
    """Red text even where no style sheet is loaded (the style sheet says the same)."""
    palette = label.palette()
    palette.setColor(label.foregroundRole(), BAD)
    label.setPalette(palette)


def _paint_muted(label: QLabel) -> None:
    palette = label.palette()
    palette.setColor(label.foregroundRole(), MUTED)
    label.setPalette(palette)


__all__ = ["ComponentForm", "default_text"]

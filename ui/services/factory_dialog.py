"""The "+" dialog: choose a factory and name a new component; bad names are refused here."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.errors import FieldError
from app.metatype import ComponentDescriptor
from ui.form.touch_widgets import TouchComboBox
from ui.input_hints import TECHNICAL
from ui.keyboard import keyboard_rect
from ui.style import TOUCH_MIN

NameCheck = Callable[[str, str], list[FieldError]]

# Between the dialog's bottom edge and the top of the on-screen keyboard.
KEYBOARD_GAP = 4


class FactoryDialog(QDialog):
    """Lists every factory component of the catalog; more factories need no change here.

    While the on-screen keyboard is up, the dialog keeps to the room above it: the Factory
    choice and the help text step aside, and the name, its error and Create stay in sight.
    """

    def __init__(self, factories: Sequence[ComponentDescriptor], check_name: NameCheck,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("factory-dialog")
        self.setWindowTitle("Create a new component")
        # Wide enough that the wrapped help and error texts never overlap at 800x480.
        self.setMinimumWidth(560)
        self._check = check_name
        self._compact = False
        self._home: QPoint | None = None
        layout = QVBoxLayout(self)
        layout.setSpacing(8)

        self.factory_label = QLabel("Factory")
        self.factory_label.setObjectName("field-label")
        self.factory = TouchComboBox()
        self.factory.setObjectName("factory-combo")
        self.factory.setMinimumHeight(TOUCH_MIN)
        self.factory.setAccessibleName("Factory")
        for comp in factories:
            pid = comp.factory_pid or comp.id
            # The name a person reads; the factory id (Kura's) stays in the tooltip.
            self.factory.addItem(comp.name or pid, comp.factory_pid)
            self.factory.setItemData(self.factory.count() - 1,
                                     f"{comp.description}\n({pid})".strip(),
                                     Qt.ItemDataRole.ToolTipRole)
        self.factory_label.setBuddy(self.factory)

        name_label = QLabel("Name")
        name_label.setObjectName("field-label")
        self.name = QLineEdit()
        self.name.setObjectName("name-edit")
        self.name.setMinimumHeight(TOUCH_MIN)
        self.name.setPlaceholderText("for example: web-gateway")
        self.name.setAccessibleName("Name")
        # The container's name, exactly as typed: no capital first letter, no word guessing.
        self.name.setInputMethodHints(TECHNICAL)
        name_label.setBuddy(self.name)
        self.help_text = QLabel("The name is also the container's name: letters, digits, _, . "
                                "and -, starting with a letter or a digit.")
        self.help_text.setObjectName("help")
        self.help_text.setWordWrap(True)
        self.error = QLabel("")
        self.error.setObjectName("name-error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Name error")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.submit = self.buttons.addButton("Create", QDialogButtonBox.ButtonRole.AcceptRole)
        self.submit.setObjectName("create")
        for button in self.buttons.buttons():
            button.setMinimumHeight(TOUCH_MIN)
        self.buttons.rejected.connect(self.reject)
        self.buttons.accepted.connect(self._accept_if_valid)

        for w in (self.factory_label, self.factory, name_label, self.name, self.help_text,
                  self.error):
            layout.addWidget(w)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._refresh)
        self.factory.currentIndexChanged.connect(self._refresh)
        self.name.returnPressed.connect(self._accept_if_valid)
        im = QGuiApplication.inputMethod()
        im.visibleChanged.connect(self._fit_above_keyboard)
        im.keyboardRectangleChanged.connect(self._fit_above_keyboard)
        self._refresh()

    def factory_pid(self) -> str:
        return str(self.factory.currentData())

    def instance_name(self) -> str:
        return self.name.text().strip()

    def problems(self) -> list[FieldError]:
        return self._check(self.instance_name(), self.factory_pid())

    def _refresh(self) -> None:
        text = self.instance_name()
        problems = self.problems() if text else []
        # An empty name is not an error yet (nothing typed); Create just stays off.
        self.error.setText(problems[0].message if problems else "")
        self.error.setVisible(bool(problems))
        self.submit.setEnabled(bool(text) and not problems)
        self._fit_above_keyboard()

    def _accept_if_valid(self) -> None:
        problems = self.problems()
        if problems:
            self.error.setText(problems[0].message)
            self.error.setVisible(True)
            self._fit_above_keyboard()
            return
        self.accept()

    # -- the on-screen keyboard ----------------------------------------------------------
    def _fit_above_keyboard(self, *_: object) -> None:
        kb = keyboard_rect() if self.isVisible() else None
        compact = kb is not None
        if compact != self._compact:
            self._compact = compact
            if compact:
                self._home = self.pos()
            # With the keyboard up the factory was chosen already; the help can wait.
            self.factory_label.setVisible(not compact)
            self.factory.setVisible(not compact)
            self.help_text.setVisible(not compact)
        self.adjustSize()
        if kb is not None:
            # A window's pos() and move() are those of its frame (title bar included).
            frame = self.frameGeometry()
            top = max(self.screen().availableGeometry().top(),
                      kb.top() - KEYBOARD_GAP - frame.height())
            if frame.top() != top:
                self.move(frame.left(), top)
        elif self._home is not None:
            self.move(self._home)
            self._home = None

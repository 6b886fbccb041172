"""The "+" dialog: choose a factory and name a new component; bad names are refused here."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.errors import FieldError
from app.metatype import ComponentDescriptor
from ui.form import TOUCH_MIN

NameCheck = Callable[[str, str], list[FieldError]]


class FactoryDialog(QDialog):
    """Lists every factory component of the catalog; more factories need no change here."""

    def __init__(self, factories: Sequence[ComponentDescriptor], check_name: NameCheck,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("factory-dialog")
        self.setWindowTitle("Create a new component")
        # Wide enough that the wrapped help and error texts never overlap at 800x480.
        self.setMinimumWidth(560)
        self._check = check_name
        layout = QVBoxLayout(self)
        layout.setSpacing(8)

        factory_label = QLabel("Factory")
        factory_label.setObjectName("field-label")
        self.factory = QComboBox()
        self.factory.setObjectName("factory-combo")
        for comp in factories:
            self.factory.addItem(comp.factory_pid or comp.id, comp.factory_pid)
            self.factory.setItemData(self.factory.count() - 1, comp.description,
                                     Qt.ItemDataRole.ToolTipRole)
        factory_label.setBuddy(self.factory)

        name_label = QLabel("Name")
        name_label.setObjectName("field-label")
        self.name = QLineEdit()
        self.name.setObjectName("name-edit")
        self.name.setPlaceholderText("for example: web-gateway")
        name_label.setBuddy(self.name)
        help_text = QLabel("The name is also the container's name: letters, digits, _, . and -, "
                           "starting with a letter or a digit.")
        help_text.setObjectName("help")
        help_text.setWordWrap(True)
        self.error = QLabel("")
        self.error.setObjectName("name-error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.submit = self.buttons.addButton("Create", QDialogButtonBox.ButtonRole.AcceptRole)
        self.submit.setObjectName("create")
        for button in self.buttons.buttons():
            button.setMinimumHeight(TOUCH_MIN)
        self.buttons.rejected.connect(self.reject)
        self.buttons.accepted.connect(self._accept_if_valid)

        for w in (factory_label, self.factory, name_label, self.name, help_text, self.error):
            layout.addWidget(w)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._refresh)
        self.factory.currentIndexChanged.connect(self._refresh)
        self.name.returnPressed.connect(self._accept_if_valid)
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
        self.adjustSize()

    def _accept_if_valid(self) -> None:
        problems = self.problems()
        if problems:
            self.error.setText(problems[0].message)
            self.error.setVisible(True)
            return
        self.accept()

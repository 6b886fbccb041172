"""Import configuration…: choose a file, see what importing it would do (instances created,
replaced and left alone, components skipped, warnings, or every error by instance and field),
and only then import it. Nothing is written before Import is pressed; nothing waits here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.errors import shown
from ui.style import TOUCH_MIN, set_style_property
from ui.transfer.file_chooser import FileChooser
from ui.transfer.sizing import fit_to_window

if TYPE_CHECKING:
    from app.config.kura import ImportPlan
    from app.orchestrator.transfers import Transfers
    from ui.operations import Failure, Operations


def plan_text(plan: ImportPlan, *, done: bool = False) -> str:
    """The preview (or the result) in sentences, errors by instance and field."""
    lines = list(plan.summary(done=done))
    lines += [f"⚠ {w}" for w in plan.warnings]
    lines += [f"✖ {e}" for e in plan.errors]
    return "\n".join(lines)


def _button(text: str, name: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setMinimumHeight(TOUCH_MIN)
    return button


class ImportDialog(QDialog):
    """Three steps on one stack: the file, the preview, the result."""

    def __init__(self, transfers: Transfers, ops: Operations, *, touch: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("import-dialog")
        self.setWindowTitle("Import configuration")
        self._transfers = transfers
        self._ops = ops
        self._touch = touch
        self.path: Path | None = None
        self.plan: ImportPlan | None = None
        self._service_ids: tuple[str, ...] = ()
        layout = QVBoxLayout(self)
        # Said in the dialog itself: on the panel no window manager draws a title bar.
        heading = QLabel("Import configuration")
        heading.setObjectName("dialog-title")
        layout.addWidget(heading)
        self.steps = QStackedWidget()
        layout.addWidget(self.steps, 1)

        # 1. The file.
        choose = QWidget()
        cl = QVBoxLayout(choose)
        cl.setContentsMargins(0, 0, 0, 0)
        hint = QLabel("Choose a Moorings or Kura configuration file (a snapshot from Kura's "
                      "web UI works). Nothing is changed until you have seen what it does.")
        hint.setObjectName("help")
        hint.setWordWrap(True)
        cl.addWidget(hint)
        self.chooser = FileChooser(transfers, ops)
        cl.addWidget(self.chooser, 1)
        row = QHBoxLayout()
        self.cancel_button = _button("Cancel", "cancel")
        self.preview_button = _button("Preview", "preview")
        self.preview_button.setEnabled(False)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        row.addWidget(self.preview_button)
        cl.addLayout(row)
        self.steps.addWidget(choose)

        # 2. The preview.
        preview = QWidget()
        pl = QVBoxLayout(preview)
        pl.setContentsMargins(0, 0, 0, 0)
        self.preview_title = QLabel("")
        self.preview_title.setObjectName("preview-title")
        self.preview_title.setWordWrap(True)
        pl.addWidget(self.preview_title)
        self.preview_text = QLabel("")
        self.preview_text.setObjectName("preview-text")
        self.preview_text.setAccessibleName("What the import would do")
        self.preview_text.setWordWrap(True)
        self.preview_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview_text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea()
        scroll.setObjectName("preview-scroll")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.preview_text)
        pl.addWidget(scroll, 1)
        # A file from another gateway carries that gateway's service settings (its engine's
        # address among them): they are left as they are unless the person asks.
        self.with_service = QCheckBox("Also import the service settings")
        self.with_service.setObjectName("with-service")
        self.with_service.setVisible(False)
        self.with_service.toggled.connect(self._repreview)
        pl.addWidget(self.with_service)
        row = QHBoxLayout()
        self.back_button = _button("‹ Other file", "other-file")
        self.cancel_button2 = _button("Cancel", "cancel-preview")
        self.import_button = _button("Import", "import")
        row.addWidget(self.back_button)
        row.addWidget(self.cancel_button2)
        row.addStretch(1)
        row.addWidget(self.import_button)
        pl.addLayout(row)
        self.steps.addWidget(preview)

        # 3. The result.
        result = QWidget()
        rl = QVBoxLayout(result)
        rl.setContentsMargins(0, 0, 0, 0)
        self.result_text = QLabel("")
        self.result_text.setObjectName("result-text")
        self.result_text.setAccessibleName("Import result")
        self.result_text.setWordWrap(True)
        self.result_text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        rl.addWidget(self.result_text, 1)
        row = QHBoxLayout()
        self.again_button = _button("Preview again", "preview-again")
        self.close_button = _button("Close", "close")
        row.addWidget(self.again_button)
        row.addStretch(1)
        row.addWidget(self.close_button)
        rl.addLayout(row)
        self.steps.addWidget(result)

        self.busy = QLabel("")
        self.busy.setObjectName("busy-line")
        self.busy.setProperty("role", "info")
        layout.addWidget(self.busy)

        for b in (self.cancel_button, self.cancel_button2):
            b.clicked.connect(self.reject)
        self.close_button.clicked.connect(self.accept)
        self.chooser.file_selected.connect(
            lambda path: self.preview_button.setEnabled(path is not None))
        self.chooser.file_chosen.connect(self.preview)
        self.preview_button.clicked.connect(self._preview_selected)
        self.back_button.clicked.connect(lambda: self.steps.setCurrentIndex(0))
        self.import_button.clicked.connect(self.confirm)
        self.again_button.clicked.connect(self._repreview)
        fit_to_window(self, touch=touch)
        self.chooser.refresh_places()

    def _set_busy(self, text: str) -> None:
        self.busy.setText(text)
        for b in (self.preview_button, self.import_button, self.back_button,
                  self.again_button, self.with_service):
            b.setEnabled(not text)

    # -- 2: the preview ------------------------------------------------------------------
    def _preview_selected(self) -> None:
        path = self.chooser.selected_file()
        if path is not None:
            self.preview(path)

    def preview(self, path: Path) -> None:
        self.path = path
        self._service_ids = ()
        self.with_service.blockSignals(True)
        self.with_service.setChecked(False)
        self.with_service.blockSignals(False)
        self._run_preview()

    def _repreview(self, *_: object) -> None:
        if self.path is not None:
            self._run_preview()

    def _run_preview(self) -> None:
        assert self.path is not None
        path = self.path
        self._set_busy(f"Reading {path.name}…")
        # The full preview tells which service settings the file would change; the one the
        # person confirms leaves them out unless the box is ticked.
        self._ops.run(self._transfers.preview(path, with_service=True), owner=self,
                      on_success=self._with_service_preview,
                      on_failure=self._preview_failed)

    def _with_service_preview(self, full: ImportPlan) -> None:
        self._service_ids = full.service_changes
        if full.service_changes and not self.with_service.isChecked():
            self._ops.run(self._transfers.preview(self.path or Path(), with_service=False),
                          owner=self, on_success=self._show_preview,
                          on_failure=self._preview_failed)
            return
        self._show_preview(full)

    def _show_preview(self, plan: ImportPlan) -> None:
        self._set_busy("")
        self.plan = plan
        name = shown(self.path.name if self.path else "")
        self.preview_title.setText(f"Importing {name} ({plan.document.source}) would do this:"
                                   if plan.ok else f"{name} cannot be imported:")
        self.preview_text.setText(plan_text(plan))
        if self._service_ids:
            listed = ", ".join(self._service_ids[:4]) + \
                (f" and {len(self._service_ids) - 4} more" if len(self._service_ids) > 4 else "")
            self.with_service.setText(f"Also import the service settings ({listed})")
        self.with_service.setVisible(bool(self._service_ids) and plan.ok)
        something = bool(plan.created or plan.replaced or plan.service_changes)
        self.import_button.setEnabled(plan.ok and something)
        self.import_button.setToolTip("" if something or not plan.ok else
                                      "Everything is already as in the file")
        self.steps.setCurrentIndex(1)

    def _preview_failed(self, failure: Failure) -> None:
        self._set_busy("")
        self.steps.setCurrentIndex(0)
        self.chooser.problem.setText(failure.sentence)
        self.chooser.problem.setVisible(True)

    # -- 3: the import -------------------------------------------------------------------
    def confirm(self) -> None:
        if self.plan is None or not self.plan.ok or self.path is None:
            return
        self._set_busy("Importing…")
        self._ops.run(self._transfers.import_previewed(self.plan, self.path.name), owner=self,
                      on_success=self._imported, on_failure=self._import_failed)

    def _imported(self, plan: ImportPlan) -> None:
        self._set_busy("")
        self.result_text.setText(plan_text(plan, done=True))
        set_style_property(self.result_text, "role", "info")
        self.again_button.setVisible(False)
        self.steps.setCurrentIndex(2)

    def _import_failed(self, failure: Failure) -> None:
        self._set_busy("")
        self.result_text.setText(failure.sentence)
        set_style_property(self.result_text, "role", "error")
        self.again_button.setVisible(True)
        self.steps.setCurrentIndex(2)

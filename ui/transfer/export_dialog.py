"""Export configuration…: the format (Moorings' own, or Kura's snapshot XML or JSON), whether
passwords go in, and the folder (a USB stick first); the file is named for the gateway and
the moment, so nothing needs typing on the panel. Save as… names it on a laptop."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.config.kura import ExportFormat
from app.errors import shown
from ui.style import TOUCH_MIN, set_style_property
from ui.transfer.file_chooser import FileChooser
from ui.transfer.sizing import fit_to_window

if TYPE_CHECKING:
    from app.orchestrator.transfers import Transfers
    from ui.operations import Failure, Operations

FORMATS: tuple[tuple[ExportFormat, str, str], ...] = (
    (ExportFormat.MOORINGS_JSON, "Moorings (.json)", "json"),
    (ExportFormat.KURA_XML, "Kura snapshot (.xml)", "xml"),
    (ExportFormat.KURA_JSON, "Kura JSON (.json)", "json"),
)


def default_name(fmt: ExportFormat, host: str | None = None, now: float | None = None) -> str:
    """``moorings-<host>-<YYYYmmdd-HHMMSS>[-kura].<ext>``: unique enough, and says whence."""
    host = host if host is not None else socket.gethostname()
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in host) or "gateway"
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    ext = next(e for f, _, e in FORMATS if f is fmt)
    kura = "-kura" if fmt is not ExportFormat.MOORINGS_JSON else ""
    return f"moorings-{safe}-{stamp}{kura}.{ext}"


class ExportDialog(QDialog):
    def __init__(self, transfers: Transfers, ops: Operations, *, touch: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("export-dialog")
        self.setWindowTitle("Export configuration")
        self._transfers = transfers
        self._ops = ops
        self.written: Path | None = None
        self._chosen_path: Path | None = None  # Save as…'s, else folder + default name
        layout = QVBoxLayout(self)
        # Said in the dialog itself: on the panel no window manager draws a title bar.
        heading = QLabel("Export configuration")
        heading.setObjectName("dialog-title")
        layout.addWidget(heading)

        formats = QHBoxLayout()
        self.format_group = QButtonGroup(self)
        self.format_buttons: dict[ExportFormat, QRadioButton] = {}
        for i, (fmt, label, _) in enumerate(FORMATS):
            radio = QRadioButton(label)
            radio.setObjectName(f"format-{fmt.value}")
            radio.setMinimumHeight(TOUCH_MIN)
            self.format_group.addButton(radio, i)
            self.format_buttons[fmt] = radio
            formats.addWidget(radio)
        self.format_buttons[ExportFormat.MOORINGS_JSON].setChecked(True)
        layout.addLayout(formats)

        self.include_secrets = QCheckBox("Include passwords")
        self.include_secrets.setObjectName("include-secrets")
        self.include_secrets.setMinimumHeight(TOUCH_MIN)
        layout.addWidget(self.include_secrets)
        self.secrets_warning = QLabel(
            "The file will hold the registry passwords (readable by anyone who has the file "
            "or the stick; on this machine only you may read it). Without them, an import "
            "keeps the passwords a gateway already has.")
        self.secrets_warning.setObjectName("secrets-warning")
        self.secrets_warning.setProperty("role", "error")
        self.secrets_warning.setWordWrap(True)
        self.secrets_warning.setVisible(False)
        layout.addWidget(self.secrets_warning)

        self.chooser = FileChooser(transfers, ops, folders_only=True)
        layout.addWidget(self.chooser, 1)
        self.target = QLabel("")
        self.target.setObjectName("export-target")
        self.target.setAccessibleName("The file to write")
        self.target.setWordWrap(True)
        layout.addWidget(self.target)
        self.result_line = QLabel("")
        self.result_line.setObjectName("export-result")
        self.result_line.setWordWrap(True)
        self.result_line.setVisible(False)
        layout.addWidget(self.result_line)

        row = QHBoxLayout()
        self.cancel_button = QPushButton("Cancel")
        self.save_as_button = QPushButton("Save as…")
        self.export_button = QPushButton("Export")
        for b, name in ((self.cancel_button, "cancel"), (self.save_as_button, "save-as"),
                        (self.export_button, "export")):
            b.setObjectName(name)
            b.setMinimumHeight(TOUCH_MIN)
        self.export_button.setEnabled(False)
        row.addWidget(self.cancel_button)
        row.addWidget(self.save_as_button)
        row.addStretch(1)
        row.addWidget(self.export_button)
        layout.addLayout(row)

        self.cancel_button.clicked.connect(self.reject)
        self.export_button.clicked.connect(self.export)
        self.save_as_button.clicked.connect(self._save_as)
        self.include_secrets.toggled.connect(self.secrets_warning.setVisible)
        self.format_group.idToggled.connect(lambda *_: self._show_target())
        self.chooser.folder_changed.connect(lambda _f: self._forget_save_as())
        fit_to_window(self, touch=touch)
        self.chooser.refresh_places()

    def fmt(self) -> ExportFormat:
        return FORMATS[max(0, self.format_group.checkedId())][0]

    def path(self) -> Path | None:
        if self._chosen_path is not None:
            return self._chosen_path
        if self.chooser.folder is None:
            return None
        return self.chooser.folder / default_name(self.fmt())

    def _forget_save_as(self) -> None:
        self._chosen_path = None
        self._show_target()

    def _show_target(self) -> None:
        path = self.path()
        self.target.setText(f"Will write {shown(str(path))}" if path else "Choose a folder.")
        self.export_button.setEnabled(path is not None)

    def _save_as(self) -> None:
        start = str(self.path() or "")
        name, _ = QFileDialog.getSaveFileName(self, "Export configuration as", start,
                                              "Configuration files (*.json *.xml)")
        if name:
            self._chosen_path = Path(name)
            self._show_target()

    def export(self) -> None:
        path = self.path()
        if path is None:
            return
        secrets = self.include_secrets.isChecked()
        self.export_button.setEnabled(False)
        self.target.setText(f"Writing {shown(str(path))}…")
        self._ops.run(self._transfers.export(path, self.fmt(), include_secrets=secrets),
                      owner=self, on_success=lambda _none: self._written(path, secrets),
                      on_failure=self._failed)

    def _written(self, path: Path, secrets: bool) -> None:
        self.written = path
        with_what = " with passwords (only you may read it here)" if secrets else \
            " without passwords"
        self.result_line.setText(f"Exported to {shown(str(path))}{with_what}.")
        set_style_property(self.result_line, "role", "info")
        self.result_line.setVisible(True)
        self.cancel_button.setText("Close")
        self._show_target()

    def _failed(self, failure: Failure) -> None:
        self.result_line.setText(failure.sentence)
        set_style_property(self.result_line, "role", "error")
        self.result_line.setVisible(True)
        self._show_target()

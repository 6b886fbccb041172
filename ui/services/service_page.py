"""The page of the orchestration service: which engine, whether it answers, and its settings."""

from __future__ import annotations

from typing import cast

from PySide6.QtWidgets import QLabel, QWidget

from app.config.model import Scalar
from app.engine.hosts import EngineTarget
from app.metatype import ComponentDescriptor
from app.orchestrator.events import ConnectionChanged
from ui.services.form_page import FormPage


class ServicePage(FormPage):
    def __init__(self, component: ComponentDescriptor, parent: QWidget | None = None) -> None:
        super().__init__(component, None, "service-", parent)
        self.setObjectName("service-page")
        # What the settings in the form would mean for the engine's safety, as they are
        # edited (before anything is applied).
        self.security_warning = QLabel("")
        self.security_warning.setObjectName("form-security-warning")
        self.security_warning.setWordWrap(True)
        self.security_warning.setAccessibleName("Security warning")
        self.security_warning.setVisible(False)
        self.extra.addWidget(self.security_warning)
        self.form.changed.connect(self._check_security)
        self.form.loaded.connect(self._check_security)
        self._check_security()
        self.show_connection(None)

    def warning_for_form(self) -> str | None:
        values = cast("dict[str, Scalar]", self.form.values())
        return EngineTarget.from_values(self.component, values).security_warning()

    def _check_security(self) -> None:
        warning = self.warning_for_form()
        self.security_warning.setText(f"⚠ {warning}" if warning else "")
        self.security_warning.setVisible(bool(warning))

    def show_connection(self, conn: ConnectionChanged | None) -> None:
        if conn is None or (not conn.connected and not conn.host):
            # (Before the first attempt the core knows no host yet.)
            self.set_badge("connecting", "starting")
            self.status_line.setText("Connecting to the engine…")
        elif conn.connected:
            self.set_badge("live", "running")
            self.status_line.setText(f"Connected to {conn.host} (API {conn.api_version}).")
        else:
            self.set_badge("not connected", "failed")
            self.status_line.setText(f"Not connected to {conn.host}: {conn.reason}. Moorings "
                                     "keeps trying by itself.")

"""The page of the orchestration service: which engine, whether it answers, and its settings."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.metatype import ComponentDescriptor
from app.orchestrator.events import ConnectionChanged
from ui.form_page import FormPage


class ServicePage(FormPage):
    def __init__(self, component: ComponentDescriptor, parent: QWidget | None = None) -> None:
        super().__init__(component, None, "service-", parent)
        self.setObjectName("service-page")
        self.show_connection(None)

    def show_connection(self, conn: ConnectionChanged | None) -> None:
        if conn is None:
            self.set_badge("connecting", "starting", "#1f5fbf")
            self.status_line.setText("Connecting to the engine…")
        elif conn.connected:
            self.set_badge("live", "running", "#1b7f3b")
            self.status_line.setText(f"Connected to {conn.host} (API {conn.api_version}).")
        else:
            self.set_badge("not connected", "failed", "#b00020")
            self.status_line.setText(f"Not connected to {conn.host}: {conn.reason}. Moorings "
                                     "keeps trying by itself.")

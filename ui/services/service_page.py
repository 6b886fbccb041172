"""The page of the orchestration service: which engine, whether it answers, and its settings."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.engine.hosts import EngineTarget
from app.metatype import ComponentDescriptor
from app.orchestrator.events import ConnectionChanged
from ui.services.form_page import FormPage


class ServicePage(FormPage):
    def __init__(self, component: ComponentDescriptor, parent: QWidget | None = None) -> None:
        super().__init__(component, None, "service-", parent)
        self.setObjectName("service-page")
        # What the settings in the form would mean for the engine's safety.
        self.security_warning = self.watch_security(
            lambda values: EngineTarget.from_values(self.component, values).security_warning())
        self.show_connection(None)

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

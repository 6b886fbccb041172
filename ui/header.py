"""The window's header: Back, the sections, which engine the window is connected to and
whether it is live, and a warning in words while that connection is unsafe.

Built before the window's first frame: nothing here reaches for the core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ui.style import TOUCH_MIN, set_style_property

if TYPE_CHECKING:
    from PySide6.QtGui import QResizeEvent

    from app.orchestrator.events import ConnectionChanged
    from app.orchestrator.state import EnforcementStatus
    from app.remote.events import CloudLinkChanged

SECTIONS = (("services", "Services"), ("containers", "Containers"), ("images", "Images"))


class ElidedLabel(QLabel):
    """A one-line label that shortens its text in the middle to the width it gets (an
    engine address keeps its scheme and its port), never cut at the edge."""

    def __init__(self) -> None:
        super().__init__()
        self._full = ""

    def set_full_text(self, text: str) -> None:
        self._full = text
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        room = self.contentsRect().width()
        if room <= 0 or self.fontMetrics().horizontalAdvance(self._full) <= room:
            self.setText(self._full)
            return
        # Only now: the first use of ``Qt`` builds all of its enums (tens of milliseconds),
        # which the window's first frame (this label still empty) should not wait for.
        from PySide6.QtCore import Qt

        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle,
                                                   room))


class Header(QFrame):
    """One row, even at 480 px high (every pixel of height goes to the content), and the
    security warning under it when there is one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # A QFrame, not a bare QWidget subclass: the style sheet paints a frame's background
        # (the dark bar its white words are written for) unasked, and asking would mean
        # touching ``Qt`` before the first frame (see ElidedLabel._elide).
        self.setObjectName("header")
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(0)
        row = QHBoxLayout()
        row.setContentsMargins(8, 4, 8, 4)
        rows.addLayout(row)
        # An unsafe engine connection (plain tcp://, TLS unverified) is said under the row,
        # in words, for as long as the window is connected to it.
        self.security_warning = QLabel("")
        self.security_warning.setObjectName("security-warning")
        self.security_warning.setWordWrap(True)
        self.security_warning.setAccessibleName("Security warning")
        self.security_warning.setVisible(False)
        rows.addWidget(self.security_warning)
        # Enforcement that cannot check fails closed: said here, loudly, until it can again.
        self.enforcement_warning = QLabel("")
        self.enforcement_warning.setObjectName("enforcement-warning")
        self.enforcement_warning.setWordWrap(True)
        self.enforcement_warning.setAccessibleName("Enforcement warning")
        self.enforcement_warning.setVisible(False)
        rows.addWidget(self.enforcement_warning)
        self.back_button = QPushButton("‹ Back")
        self.back_button.setObjectName("back")
        self.back_button.setMinimumHeight(TOUCH_MIN)
        self.app_label = QLabel("Moorings")
        self.app_label.setObjectName("app-title")
        self.host_label = ElidedLabel()
        self.host_label.setObjectName("host-label")
        self.host_label.setAccessibleName("Docker engine")
        self.connection_label = QLabel("starting…")
        self.connection_label.setObjectName("connection-label")
        self.connection_label.setAccessibleName("Engine connection")
        row.addWidget(self.back_button)
        row.addWidget(self.app_label)
        nav = QWidget()
        nav.setObjectName("nav")
        nl = QHBoxLayout(nav)
        nl.setContentsMargins(0, 0, 0, 0)
        nl.setSpacing(4)
        self.nav_buttons: dict[str, QPushButton] = {}
        for key, label in SECTIONS:
            button = QPushButton(label)
            button.setObjectName(f"nav-{key}")
            button.setCheckable(True)
            button.setAutoExclusive(True)
            button.setMinimumHeight(TOUCH_MIN)
            button.setEnabled(key == "services")
            nl.addWidget(button)
            self.nav_buttons[key] = button
        self.nav_buttons["services"].setChecked(True)
        # The host may be long (tcp://gateway-17.example.net:2376): it gives way, and its
        # tooltip keeps the whole address.
        self.host_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # The cloud link (remote management): shown while it is turned on; the broker and the
        # client id, or why it is not connected (shortened in the middle, whole in the tooltip).
        self.cloud_label = ElidedLabel()
        self.cloud_label.setObjectName("cloud-label")
        self.cloud_label.setAccessibleName("Cloud connection")
        self.cloud_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.cloud_label.setVisible(False)
        row.addWidget(nav)
        row.addWidget(self.host_label, 2)
        row.addWidget(self.cloud_label, 1)
        row.addWidget(self.connection_label)

    def show_cloud(self, link: CloudLinkChanged) -> None:
        """The cloud link's state: hidden while it is off."""
        on = link.state.value != "disabled"
        sentence = link.sentence()
        self.cloud_label.set_full_text(("☁ " + sentence) if on else "")
        self.cloud_label.setToolTip(sentence)
        self.cloud_label.setAccessibleName(f"Cloud connection: {sentence}")
        set_style_property(self.cloud_label, "live", "true" if link.connected else "false")
        self.cloud_label.setVisible(on)

    def show_enforcement(self, status: EnforcementStatus) -> None:
        """A warning while enforcement is on but cannot check (nothing new is created)."""
        failing = status.enabled and not status.checking
        self.enforcement_warning.setText(
            f"⚠ Enforcement cannot check the running containers: {status.reason}. No new "
            "container is created until it can." if failing else "")
        self.enforcement_warning.setVisible(failing)

    def show_connection(self, conn: ConnectionChanged, warning: str | None) -> None:
        """The engine's address and state; ``warning`` is what makes it unsafe, if it is."""
        host = conn.host or "connecting…"
        self.host_label.set_full_text(host)
        self.host_label.setToolTip(f"Docker engine: {host}")
        self.host_label.setAccessibleName(f"Docker engine: {host}")
        self.security_warning.setText(f"⚠ {warning}" if warning else "")
        self.security_warning.setVisible(bool(warning))
        if conn.connected:
            self.connection_label.setText("● live")
            self.connection_label.setToolTip(f"Connected (API {conn.api_version})")
        else:
            self.connection_label.setText("● not connected")
            self.connection_label.setToolTip(conn.reason)
        set_style_property(self.connection_label, "live", "true" if conn.connected else "false")

"""The main window, a shell: the header, the message line, and the sections (Services, then
Containers and Images once the core is loaded), in the layout the window's width asks for.

What each section shows and does is its own package's (ui/services, ui/inventory). Until
the core is loaded the window is the header and a line saying so: it is on screen at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from ui.header import Header
from ui.spoken_label import SpokenLabel
from ui.style import set_style_property

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent, QResizeEvent
    from PySide6.QtWidgets import QTreeView

    # The sections and the core are imported when the core is attached, after the window is
    # on screen: the person sees a window at once, not after the SDK and forms load.
    from app.config.repository import ConfigRepository
    from app.orchestrator.events import ConnectionChanged
    from app.orchestrator.service import Orchestrator
    from ui.bridge import CoreBridge, InventoryLike
    from ui.inventory.containers_page import ContainersPage
    from ui.inventory.images_page import ImagesPage
    from ui.services.factory_dialog import FactoryDialog
    from ui.services.instance_page import InstancePage
    from ui.services.section import ServicesSection
    from ui.services.service_page import ServicePage
    from ui.services.tree_model import ServicesModel

# Below this width the panes no longer fit side by side: one pane at a time, with Back.
TOUCH_BREAKPOINT = 900


class _FirstFrameWatch(QObject):
    """Emits the window's ``first_frame`` once its first paint is done, then steps aside."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and isinstance(watched, MainWindow):
            watched.removeEventFilter(self)
            # The children paint in the same pass: the frame is complete once it returns.
            QTimer.singleShot(0, watched.first_frame.emit)
        return False


class MainWindow(QMainWindow):
    # Once, after the first frame is on screen: what can wait (loading the core) starts then,
    # so that it does not compete with the first frame for the GIL.
    first_frame = Signal()

    def __init__(self, bridge: CoreBridge | None = None, *, touch: bool | None = None,
                 load_warnings: list[str] | None = None) -> None:
        super().__init__()
        self.setObjectName("main-window")
        self.setWindowTitle("Moorings")
        self._forced_touch = touch
        self._touch: bool | None = None
        self.services: ServicesSection | None = None
        self.containers_page: ContainersPage | None = None
        self.images_page: ImagesPage | None = None

        self.header = Header()
        self.back_button = self.header.back_button
        self.app_label = self.header.app_label
        self.host_label = self.header.host_label
        self.connection_label = self.header.connection_label
        self.security_warning = self.header.security_warning
        self.nav_buttons = self.header.nav_buttons
        self.back_button.clicked.connect(self.show_tree)
        for key, button in self.nav_buttons.items():
            button.clicked.connect(lambda _c=False, k=key: self.show_section(k))

        self.message = SpokenLabel("Message")
        self.message.setObjectName("message-line")
        self.message.setWordWrap(True)
        self.message.setVisible(False)

        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        self.sections = QStackedWidget()
        self.sections.setObjectName("sections")
        # Until the core is loaded the window is the header and this line: the sections
        # are built when the core attaches.
        self.loading = QLabel("Loading the configuration…")
        self.loading.setObjectName("loading")
        self.loading.setWordWrap(True)
        self.sections.addWidget(self.loading)
        cl.addWidget(self.header)
        cl.addWidget(self.message)
        cl.addWidget(self.sections, 1)
        self.setCentralWidget(central)
        self._set_touch(touch if touch is not None else False)
        # Not a paintEvent override: that would run Python (and wait for the GIL) at every
        # repaint of the window; the watch removes itself after the first.
        self._first_frame_watch = _FirstFrameWatch(self)
        self.installEventFilter(self._first_frame_watch)
        self._load_warnings = list(load_warnings or [])
        if bridge is not None:
            self.attach(bridge)

    # -- the core ------------------------------------------------------------------------
    def attach(self, bridge: CoreBridge) -> None:
        """Connect the window to the core once it is loaded: the sections, the live header."""
        from PySide6.QtCore import Qt

        from ui.services.section import ServicesSection

        self.bridge = bridge
        self.orch: Orchestrator = bridge.orchestrator
        self.repo: ConfigRepository = self.orch.repository
        self.host_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Confirm is looked up at each question: tests answer in the window's place.
        services = ServicesSection(bridge, self.orch, touch=bool(self._touch),
                                   confirm=lambda *q: self.confirm(*q), say=self.show_message)
        services.pane_changed.connect(self._update_back)
        self.services = services
        self.sections.insertWidget(0, services)
        self.sections.removeWidget(self.loading)
        self.loading.deleteLater()
        self.sections.setCurrentWidget(services)
        bridge.connection_changed.connect(self._on_connection)
        self._on_connection(self.orch.connection())
        bridge.enforcement_changed.connect(self.header.show_enforcement)
        if bridge.remote is not None:
            bridge.cloud_link_changed.connect(self.header.show_cloud)
            self.header.show_cloud(bridge.remote.link())
        self.header.show_enforcement(self.orch.enforcement())
        warnings = self._load_warnings + list(self.repo.load_warnings)
        if warnings:
            self.show_message(" ".join(dict.fromkeys(warnings)), error=True)
        if bridge.inventory is not None:
            self._attach_inventory(bridge, bridge.inventory)
        self._update_back()
        bridge.replay()

    def _attach_inventory(self, bridge: CoreBridge, inventory: InventoryLike) -> None:
        from ui.inventory.containers_page import ContainersPage
        from ui.inventory.images_page import ImagesPage

        containers = ContainersPage(bridge, inventory, self.orch)
        containers.open_instance.connect(self._open_instance_from_inventory)
        self.containers_page = containers
        self.images_page = ImagesPage(bridge, inventory)
        self.sections.addWidget(containers)
        self.sections.addWidget(self.images_page)
        for key in ("containers", "images"):
            self.nav_buttons[key].setEnabled(True)

    def show_load_error(self, text: str) -> None:
        """The core could not be loaded: say why, in the window, instead of a stack trace."""
        self.loading.setText(text)
        set_style_property(self.loading, "role", "error")
        self.connection_label.setText("not started")

    def _on_connection(self, conn: ConnectionChanged) -> None:
        warning = None
        if conn.connected:
            target = self.orch.target()
            if target.url == conn.host:
                warning = target.security_warning()
        self.header.show_connection(conn, warning)

    # -- sections and navigation ---------------------------------------------------------
    def show_section(self, key: str) -> None:
        """Services (the configured instances), Containers or Images (the live engine)."""
        if self.services is None:
            return
        target = {"services": self.services, "containers": self.containers_page,
                  "images": self.images_page}.get(key)
        if target is None:
            return
        if key != "services" and not self.services.may_leave():
            self.nav_buttons["services"].setChecked(True)
            return
        self.sections.setCurrentWidget(target)
        self.nav_buttons[key].setChecked(True)
        self._update_back()

    def show_tree(self) -> None:
        """Back: from an instance's or the service's page to the tree (on the touch panel)."""
        if self.services is not None:
            self.services.show_tree()

    def select_service(self) -> None:
        if self.services is not None:
            self.services.select_service()

    def select_instance(self, name: str) -> None:
        if self.services is not None:
            self.services.select_instance(name)

    def _open_instance_from_inventory(self, name: str) -> None:
        self.show_section("services")
        self.select_instance(name)

    def _update_back(self) -> None:
        self.back_button.setVisible(
            self.services is not None and self.sections.currentWidget() is self.services
            and self.services.showing_page())

    # -- what the sections show, for tests and scripts that drive the window --------------
    @property
    def model(self) -> ServicesModel:
        return self._services().model

    @property
    def tree(self) -> QTreeView:
        return self._services().tree

    @property
    def pages(self) -> QStackedWidget:
        return self._services().pages

    @property
    def instance_page(self) -> InstancePage | None:
        return self.services.instance_page if self.services is not None else None

    @property
    def service_page(self) -> ServicePage | None:
        return self.services.service_page if self.services is not None else None

    @property
    def factory_dialog(self) -> FactoryDialog | None:
        return self.services.flows.factory_dialog if self.services is not None else None

    def open_factory_dialog(self) -> FactoryDialog:
        return self._services().flows.open_factory_dialog()

    def apply_instance(self) -> None:
        self._services().flows.apply_instance()

    def _services(self) -> ServicesSection:
        assert self.services is not None, "the core is not attached yet"
        return self.services

    # -- messages and questions ----------------------------------------------------------
    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        set_style_property(self.message, "role", "error" if error else "info")
        self.message.setVisible(bool(text))

    def confirm(self, title: str, text: str, yes: str) -> bool:
        """Ask a yes/no question (tests replace this method)."""
        from ui.dialogs import ask

        return ask(self, title, text, yes)

    # -- layout --------------------------------------------------------------------------
    @property
    def touch_layout(self) -> bool:
        return bool(self._touch)

    def _set_touch(self, touch: bool) -> None:
        if touch == self._touch:
            return
        self._touch = touch
        # On the panel the whole screen is Moorings: the header's width goes to the engine's
        # address, which the person must always be able to read.
        self.app_label.setVisible(not touch)
        if self.services is not None:
            self.services.set_touch(touch)
        self._update_back()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._forced_touch is None:
            self._set_touch(event.size().width() < TOUCH_BREAKPOINT)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.services is not None and not self.services.may_leave():
            event.ignore()
            return
        event.accept()

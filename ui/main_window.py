"""The main window: header with the engine, services tree, and the page of the selected node."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

# `Qt` itself is reached through QtCore only inside methods that run after the first frame:
# PySide6 builds the namespace's ~95 Python enums on first use (about 30 ms), and the first
# frame (header and "Loading…") needs none of them.
from PySide6 import QtCore
from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui.spoken_label import SpokenLabel

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future

    from PySide6.QtCore import QModelIndex
    from PySide6.QtGui import QCloseEvent, QResizeEvent

    # The pages and the core are imported when the core is attached, after the window is
    # on screen: the person sees a window at once, not after the SDK and forms load.
    from app.config.repository import ConfigRepository, InstanceConfig
    from app.orchestrator.events import ConnectionChanged
    from app.orchestrator.service import Orchestrator
    from app.orchestrator.state import InstanceStatus
    from ui.bridge import CoreBridge
    from ui.factory_dialog import FactoryDialog
    from ui.instance_page import InstancePage
    from ui.service_page import ServicePage

TOUCH_MIN = 44  # the smallest height a finger hits reliably (as ui.form.TOUCH_MIN)

# Below this width the panes no longer fit side by side: one pane at a time, with Back.
TOUCH_BREAKPOINT = 900


def _repolish(widget: QWidget) -> None:
    """Apply the style rules that depend on a property just changed (cheaper than giving the
    widget a style sheet of its own, which rebuilds its style each time)."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


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
        from PySide6.QtCore import Qt

        room = self.contentsRect().width()
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle,
                                                   room) if room > 0 else self._full)


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
        self.instance_page: InstancePage | None = None
        self.factory_dialog: FactoryDialog | None = None
        self.service_page: ServicePage | None = None
        # Instances a person asked to stop, with when: "stopping" until the stop is over.
        self._stopping: dict[str, float] = {}
        self._reported: dict[str, InstanceStatus] = {}  # the core's last word per instance

        # Header: which engine, and is it live. Always visible, in both layouts.
        header = QWidget()
        header.setObjectName("header")
        header_rows = QVBoxLayout(header)
        header_rows.setContentsMargins(0, 0, 0, 0)
        header_rows.setSpacing(0)
        hl = QHBoxLayout()
        hl.setContentsMargins(8, 4, 8, 4)
        header_rows.addLayout(hl)
        # An unsafe engine connection (plain tcp://, TLS unverified) is said under the row,
        # in words, for as long as the window is connected to it.
        self.security_warning = QLabel("")
        self.security_warning.setObjectName("security-warning")
        self.security_warning.setWordWrap(True)
        self.security_warning.setAccessibleName("Security warning")
        self.security_warning.setVisible(False)
        header_rows.addWidget(self.security_warning)
        self.back_button = QPushButton("‹ Back")
        self.back_button.setObjectName("back")
        self.back_button.setMinimumHeight(TOUCH_MIN)
        self.back_button.clicked.connect(self.show_tree)
        self.app_label = QLabel("Moorings")
        self.app_label.setObjectName("app-title")
        self.host_label = ElidedLabel()
        self.host_label.setObjectName("host-label")
        self.host_label.setAccessibleName("Docker engine")
        self.connection_label = QLabel("starting…")
        self.connection_label.setObjectName("connection-label")
        self.connection_label.setAccessibleName("Engine connection")
        # One header row, even at 480 px high: every pixel of height goes to the content.
        hl.addWidget(self.back_button)
        hl.addWidget(self.app_label)
        nav = QWidget()
        nav.setObjectName("nav")
        nl = QHBoxLayout(nav)
        nl.setContentsMargins(0, 0, 0, 0)
        nl.setSpacing(4)
        # The host may be long (tcp://gateway-17.example.net:2376): it gives way, and its
        # tooltip keeps the whole address.
        self.host_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        hl.addWidget(nav)
        hl.addWidget(self.host_label, 1)
        hl.addWidget(self.connection_label)

        # Sections: the configured services, and the engine's live inventory.
        self.nav_buttons: dict[str, QPushButton] = {}
        for key, label in (("services", "Services"), ("containers", "Containers"),
                           ("images", "Images")):
            button = QPushButton(label)
            button.setObjectName(f"nav-{key}")
            button.setCheckable(True)
            button.setAutoExclusive(True)
            button.setMinimumHeight(TOUCH_MIN)
            button.setEnabled(key == "services")
            button.clicked.connect(lambda _c=False, k=key: self.show_section(k))
            nl.addWidget(button)
            self.nav_buttons[key] = button
        self.nav_buttons["services"].setChecked(True)

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
        # Until the core is loaded the window is the header and this line: the services tree
        # and its pages are built when the core attaches (see _build_services).
        self.loading = QLabel("Loading the configuration…")
        self.loading.setObjectName("loading")
        self.loading.setWordWrap(True)
        self.sections.addWidget(self.loading)
        self._built = False
        self._initial_selection = False
        self.containers_page: QWidget | None = None
        self.images_page: QWidget | None = None
        cl.addWidget(header)
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

    def _build_services(self) -> None:
        """The services tree and the detail pane, in the layout the window's width asks for."""
        if self._built:
            return
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QSplitter, QTreeView

        from ui.badge_delegate import BadgeDelegate
        from ui.services_model import ServicesModel

        self.host_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Services pane.
        self.model = ServicesModel("ContainerOrchestrationService", self)
        self.tree = QTreeView()
        self.tree.setObjectName("services-tree")
        self.tree.setAccessibleName("Services")
        self.tree.setAccessibleDescription(
            "The orchestration service and each container instance, with its state")
        self.tree.setModel(self.model)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setItemDelegate(BadgeDelegate(self.tree))
        self.tree.setIndentation(8)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.clicked.connect(self._on_clicked)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # The State column fits its badges, but once per burst of changes: fitting it at every
        # change measured every row through the delegate at each "pulling n%" of a pull.
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self._fit_badges = QTimer(self)
        self._fit_badges.setSingleShot(True)
        self._fit_badges.setInterval(250)
        self._fit_badges.timeout.connect(lambda: self.tree.resizeColumnToContents(1))
        for signal in (self.model.dataChanged, self.model.rowsInserted, self.model.rowsRemoved,
                       self.model.modelReset):
            signal.connect(self._fit_badges_soon)
        self._fit_badges_soon()  # measuring rows through the delegate can wait a moment
        self.add_button = QPushButton("+  New container")
        self.add_button.setObjectName("add-instance")
        self.add_button.setMinimumHeight(TOUCH_MIN)
        self.add_button.setToolTip("Create a new component (a container instance)")
        self.add_button.setAccessibleName("New container")
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(self.open_factory_dialog)
        self.tree_pane = QWidget()
        self.tree_pane.setObjectName("tree-pane")
        tl = QVBoxLayout(self.tree_pane)
        tl.setContentsMargins(8, 8, 8, 8)
        tl.addWidget(self.add_button)
        tl.addWidget(self.tree, 1)

        # Detail pane: the page of the selected node.
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")

        # The two layouts share the panes; switching moves them between containers.
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("wide-layout")
        self.splitter.setChildrenCollapsible(False)
        self.narrow = QStackedWidget()
        self.narrow.setObjectName("narrow-layout")
        self.modes = QStackedWidget()
        self.modes.addWidget(self.splitter)
        self.modes.addWidget(self.narrow)

        self.sections.insertWidget(0, self.modes)
        self.sections.removeWidget(self.loading)
        self.loading.deleteLater()
        self.sections.setCurrentWidget(self.modes)
        self._built = True
        self._lay_out()
        self._update_back()

    def attach(self, bridge: CoreBridge) -> None:
        """Connect the window to the core once it is loaded (pages, model, live events)."""
        from app.metatype import SERVICE_PID
        from ui.service_page import ServicePage

        self._build_services()

        self.bridge = bridge
        self.orch: Orchestrator = bridge.orchestrator
        self.repo: ConfigRepository = self.orch.repository
        self.service_page = ServicePage(self.repo.catalog.by_pid(SERVICE_PID))
        self.service_page.form.set_values(self.repo.service_values())
        self.service_page.apply_requested.connect(self.apply_service)
        self.pages.addWidget(self.service_page)
        self.model.set_instances(self.repo.instance_names())
        self.tree.selectionModel().currentRowChanged.connect(self._on_current_changed)
        bridge.state_changed.connect(self._on_state)
        bridge.connection_changed.connect(self._on_connection)
        bridge.instance_added.connect(self._on_added)
        bridge.instance_changed.connect(self._on_changed)
        bridge.instance_removed.connect(self._on_removed)
        self.add_button.setEnabled(True)
        self._show_host(self.orch.connection())
        warnings = self._load_warnings + list(self.repo.load_warnings)
        if warnings:
            self.show_message(" ".join(dict.fromkeys(warnings)), error=True)
        # The service is selected, but on the panel the person starts at the tree.
        self._initial_selection = True
        self.tree.setCurrentIndex(self.model.index(0, 0))
        self._initial_selection = False
        self.pages.setCurrentWidget(self.service_page)
        bridge.state_changed.connect(self._on_history_changed)
        bridge.pull_progressed.connect(self._on_pull_progress)
        if getattr(bridge, "_inventory", None) is not None:
            self._attach_inventory(bridge)
        bridge.replay()

    def _attach_inventory(self, bridge: CoreBridge) -> None:
        from ui.inventory.containers_page import ContainersPage
        from ui.inventory.images_page import ImagesPage

        containers = ContainersPage(bridge, self.orch)
        containers.open_instance.connect(self._open_instance_from_inventory)
        self.containers_page = containers
        self.images_page = ImagesPage(bridge)
        self.sections.addWidget(containers)
        self.sections.addWidget(self.images_page)
        for key in ("containers", "images"):
            self.nav_buttons[key].setEnabled(True)

    def show_section(self, key: str) -> None:
        """Services (the configured instances), Containers or Images (the live engine)."""
        if not self._built:
            return
        target = {"services": self.modes, "containers": self.containers_page,
                  "images": self.images_page}.get(key)
        if target is None:
            return
        if key != "services" and not self._may_leave():
            self.nav_buttons["services"].setChecked(True)
            return
        self.sections.setCurrentWidget(target)
        self.nav_buttons[key].setChecked(True)
        self.back_button.setVisible(key == "services" and bool(self._touch)
                                    and self.narrow.currentWidget() is self.pages)

    def _open_instance_from_inventory(self, name: str) -> None:
        self.show_section("services")
        self.select_instance(name)
        self._show_pages()

    def _on_history_changed(self, status: InstanceStatus) -> None:
        page = self.instance_page
        if page is not None and page.name == status.name and page.timeline.isVisible():
            page.timeline.set_entries(self.orch.history(status.name))

    def _on_pull_progress(self, name: str, progress: object) -> None:
        page = self.instance_page
        if page is not None and page.name == name:
            page.pull_view.update_progress(progress)  # type: ignore[arg-type]

    def show_load_error(self, text: str) -> None:
        """The core could not be loaded: say why, in the window, instead of a stack trace."""
        self.loading.setText(text)
        self.loading.setStyleSheet("color: #b00020; padding: 20px;")
        self.connection_label.setText("not started")

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
        if self._built:
            self._lay_out()
        self._update_back()

    def _lay_out(self) -> None:
        if self._touch:
            self.narrow.addWidget(self.tree_pane)
            self.narrow.addWidget(self.pages)
            self.modes.setCurrentWidget(self.narrow)
            self.narrow.setCurrentWidget(self.tree_pane)
        else:
            self.splitter.addWidget(self.tree_pane)
            self.splitter.addWidget(self.pages)
            # The narrow stack hid whichever pane was not current; both show side by side.
            self.tree_pane.show()
            self.pages.show()
            self.splitter.setStretchFactor(0, 1)
            self.splitter.setStretchFactor(1, 3)
            self.splitter.setSizes([320, 960])
            self.modes.setCurrentWidget(self.splitter)

    def _update_back(self) -> None:
        self.back_button.setVisible(bool(self._touch) and self._built
                                    and self.narrow.currentWidget() is self.pages)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._forced_touch is None:
            self._set_touch(event.size().width() < TOUCH_BREAKPOINT)

    def show_tree(self) -> None:
        if self._touch and self._built:
            if not self._may_leave():
                return
            self.narrow.setCurrentWidget(self.tree_pane)
            self._update_back()

    def _show_pages(self) -> None:
        if self._touch:
            self.narrow.setCurrentWidget(self.pages)
            self._update_back()

    # -- header and messages -------------------------------------------------------------
    def _show_host(self, conn: ConnectionChanged) -> None:
        host = conn.host or "connecting…"
        self.host_label.set_full_text(host)
        self.host_label.setToolTip(f"Docker engine: {host}")
        self.host_label.setAccessibleName(f"Docker engine: {host}")
        self._show_security_warning(conn)
        if conn.connected:
            self.connection_label.setText("● live")
            self.connection_label.setProperty("live", "true")
            self.connection_label.setToolTip(f"Connected (API {conn.api_version})")
        else:
            self.connection_label.setText("● not connected")
            self.connection_label.setProperty("live", "false")
            self.connection_label.setToolTip(conn.reason)
        _repolish(self.connection_label)

    def _show_security_warning(self, conn: ConnectionChanged) -> None:
        warning = None
        orch = getattr(self, "orch", None)
        if conn.connected and orch is not None:
            target = orch.target()
            if target.url == conn.host:
                warning = target.security_warning()
        self.security_warning.setText(f"⚠ {warning}" if warning else "")
        self.security_warning.setVisible(bool(warning))

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("role", "error" if error else "info")
        _repolish(self.message)
        self.message.setVisible(bool(text))

    def _fit_badges_soon(self, *_args: object) -> None:
        if not self._fit_badges.isActive():
            self._fit_badges.start()

    # -- core events ---------------------------------------------------------------------
    def _on_state(self, status: InstanceStatus) -> None:
        if not self.repo.has_instance(status.name):
            return
        from app.orchestrator.state import Phase

        self._reported[status.name] = status
        if status.phase not in (Phase.RUNNING, Phase.RESTARTING):
            self._stopping.pop(status.name, None)  # the stop is over (or the core says so)
        self._show_status(self._shown(status) or status)

    def _show_status(self, status: InstanceStatus) -> None:
        self.model.update_status(status)
        if self.instance_page is not None and self.instance_page.name == status.name:
            self.instance_page.show_status(status)

    def _shown(self, status: InstanceStatus | None) -> InstanceStatus | None:
        """The status as the window shows it: "stopping" while a person's Stop is under way
        and the engine still reports the container running."""
        from app.orchestrator.state import Phase

        if status is None or status.phase not in (Phase.RUNNING, Phase.RESTARTING):
            return status
        asked = self._stopping.get(status.name)
        if asked is None:
            return status
        return replace(status, phase=Phase.STOPPING, since=asked)

    def _on_connection(self, conn: ConnectionChanged) -> None:
        self._show_host(conn)
        self.model.update_connection(conn)
        if self.service_page is not None:
            self.service_page.show_connection(conn)

    def _on_added(self, name: str) -> None:
        """An instance was stored, here or by another program (a config import)."""
        self.model.add_instance(name, self.orch.status(name))

    def _on_changed(self, name: str) -> None:
        """Another program changed the instance's stored configuration."""
        page = self.instance_page
        if page is None or page.name != name or not self.repo.has_instance(name):
            return
        if page.form.is_dirty():
            page.form.replace_stored(self.repo.instance(name).values)
            page.status_line.setText(
                f"{name} was changed by another program; your edits are kept here, unapplied. "
                "Press Reset to see the stored values, or Apply to store yours.")
        else:
            page.form.set_values(self.repo.instance(name).values)

    def _on_removed(self, name: str) -> None:
        self._reported.pop(name, None)
        self._stopping.pop(name, None)
        self.model.remove_instance(name)
        if self.instance_page is not None and self.instance_page.name == name:
            self._drop_instance_page()
            self.select_service()

    # -- selection -----------------------------------------------------------------------
    def select_service(self) -> None:
        """Select the service and show its page (on the panel too, as a tap on it does)."""
        self.tree.setCurrentIndex(self.model.index(0, 0))
        self._show_pages()

    def select_instance(self, name: str) -> None:
        row = self.model.row_of(name)
        if row >= 0:
            self.tree.setCurrentIndex(self.model.index(row, 0))
            self._show_pages()

    def _current_page(self) -> QWidget | None:
        return self.pages.currentWidget() if self._built else None

    def _may_leave(self) -> bool:
        from ui.form_page import FormPage

        page = self._current_page()
        if not isinstance(page, FormPage) or not page.form.is_dirty():
            return True
        form = page.form
        title = page.title.text()
        if self.confirm("Unapplied changes",
                        f"{title} has changes that were not applied. Discard them?",
                        "Discard changes"):
            form.reset()
            return True
        return False

    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        from PySide6.QtCore import QItemSelectionModel

        from ui.services_model import INSTANCE_KIND, KIND_ROLE, NAME_ROLE

        if not current.isValid():
            return
        same = (self.instance_page is not None
                and current.data(NAME_ROLE) == self.instance_page.name
                and self._current_page() is self.instance_page)
        if not same and previous.isValid() and not self._may_leave():
            # Stay where the unapplied changes are.
            self.tree.selectionModel().setCurrentIndex(
                previous, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            return
        if current.data(KIND_ROLE) == INSTANCE_KIND:
            self._open_instance(str(current.data(NAME_ROLE)))
        elif self.service_page is not None:
            self.pages.setCurrentWidget(self.service_page)
        if not self._initial_selection:
            self._show_pages()

    def _on_clicked(self, index: QModelIndex) -> None:
        # On the panel, after Back, the row the person came from is still current: a tap on
        # it changes no selection, and must open its page all the same.
        if index.isValid() and index.row() == self.tree.currentIndex().row():
            self._show_pages()

    def _drop_instance_page(self) -> None:
        if self.instance_page is not None:
            self.pages.removeWidget(self.instance_page)
            self.instance_page.deleteLater()
            self.instance_page = None

    def _open_instance(self, name: str) -> None:
        from ui.instance_page import InstancePage

        if self.instance_page is not None and self.instance_page.name == name:
            self.pages.setCurrentWidget(self.instance_page)
            return
        self._drop_instance_page()
        inst = self.repo.instance(name)
        page = InstancePage(self.repo.catalog.by_pid(inst.factory), name)
        page.form.set_values(inst.values)
        page.show_status(self._shown(self.orch.status(name) or self.model.status(name)))
        page.apply_requested.connect(self.apply_instance)
        page.delete_requested.connect(self.delete_instance)
        page.history_requested.connect(
            lambda: page.timeline.set_entries(self.orch.history(name)))
        page.start_requested.connect(lambda: self._run(self.orch.start_container(name), page))
        page.stop_requested.connect(lambda: self._stop(name, page))
        page.retry_requested.connect(lambda: self._run(self.orch.retry_instance(name), page))
        self.pages.addWidget(page)
        self.pages.setCurrentWidget(page)
        self.instance_page = page

    # -- flows ---------------------------------------------------------------------------
    def confirm(self, title: str, text: str, yes: str) -> bool:
        """Ask a yes/no question (tests replace this method)."""
        from ui.dialogs import ask

        return ask(self, title, text, yes)

    def open_factory_dialog(self) -> FactoryDialog:
        from ui.factory_dialog import FactoryDialog

        if not self._may_leave():
            raise RuntimeError("unapplied changes kept")
        dialog = FactoryDialog(self.repo.catalog.factories(), self._check_name, self)
        dialog.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda: self._create(dialog.instance_name(),
                                                     dialog.factory_pid()))
        self.factory_dialog = dialog
        dialog.open()
        return dialog

    def _check_name(self, name: str, factory: str) -> list[Any]:
        from app.metatype import INSTANCE_FACTORY_PID

        return self.repo.check_new_name(name, factory or INSTANCE_FACTORY_PID)

    def _create(self, name: str, factory: str) -> None:
        self.show_message(f"Creating {name}…")

        def done(f: Future[InstanceConfig]) -> None:
            exc = f.exception()
            if exc is not None:
                self.show_message(f"{name} was not created: {exc}", error=True)
                return
            self.show_message("")
            self.model.add_instance(name, self.orch.status(name))
            self.select_instance(name)
        self.bridge.when_done(self.orch.create_instance(name, factory=factory), done)

    def apply_instance(self) -> None:
        page = self.instance_page
        if page is None:
            return
        if page.form.validate():
            return  # the errors are shown at their fields; nothing leaves the form
        self._send_form(page, self.orch.apply(page.name, page.form.values()),
                        lambda result: result.values)

    def apply_service(self) -> None:
        page = self.service_page
        if page is None or page.form.validate():
            return
        self._send_form(page, self.orch.update_service(page.form.values()),
                        lambda result: result)

    def _send_form(self, page: Any, future: Future[Any],
                   stored_values: Callable[[Any], dict[str, Any]]) -> None:
        """Show ``page`` busy until ``future`` settles; then its errors at their fields, the
        failure on its status line, or the values as stored."""
        from app.errors import ConfigError

        page.set_busy(True)
        sent = page.form.values()

        def done(f: Future[Any]) -> None:
            page.set_busy(False)
            exc = f.exception()
            if isinstance(exc, ConfigError):
                page.form.show_errors(exc.errors)
            elif exc is not None:
                page.status_line.setText(f"Apply failed: {exc}")
            elif page.form.values() == sent:
                # The stored values become the form's baseline: Apply and Reset go off.
                page.form.set_values(stored_values(f.result()))
            # else: the person kept typing while it applied; those edits stay, unapplied.
        self.bridge.when_done(future, done)

    def delete_instance(self) -> None:
        page = self.instance_page
        if page is None:
            return
        name = page.name
        if not self.confirm(
                f"Delete {name}?",
                f"This stops and removes the container {name} and deletes its configuration. "
                "The image stays on the engine. This cannot be undone.", "Delete"):
            return
        page.set_busy(True)

        def done(f: Future[None]) -> None:
            exc = f.exception()
            if exc is not None:
                if self.instance_page is page:
                    page.set_busy(False)
                    page.status_line.setText(f"Delete failed: {exc}")
                return
            self.show_message(f"{name} was deleted.")
        self.bridge.when_done(self.orch.delete_instance(name), done)

    def _stop(self, name: str, page: InstancePage) -> None:
        self._stopping[name] = time.time()
        current = self._reported.get(name) or self.orch.status(name)
        if current is not None:
            self._show_status(self._shown(current) or current)

        def over(_f: Future[Any]) -> None:
            # Done or refused: the core's own status from here on.
            if self._stopping.pop(name, None) is not None:
                latest = self._reported.get(name) or self.orch.status(name)
                if latest is not None:
                    self._show_status(latest)
        future = self.orch.stop_container(name)
        self.bridge.when_done(future, over)
        self._run(future, page)  # after: a refusal's sentence stays under the badge

    def _run(self, future: Future[Any], page: InstancePage) -> None:
        from app.engine.errors import EngineError

        def done(f: Future[Any]) -> None:
            exc = f.exception()
            if exc is not None and self.instance_page is page:
                text = exc.sentence if isinstance(exc, EngineError) else str(exc)
                page.status_line.setText(text)
        self.bridge.when_done(future, done)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._may_leave():
            event.ignore()
            return
        event.accept()

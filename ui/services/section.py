"""The Services section's widgets and navigation: the tree with "+ New container", the page of
the selected node, and the two layouts (side by side on a laptop; one pane at a time, with
Back, on the touch panel). What the pages ask of the core is :mod:`ui.services.flows`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.metatype import SERVICE_PID
from ui.operations import Operations
from ui.services.cloud_page import CloudPage
from ui.services.flows import ServicesFlows
from ui.services.form_page import FormPage
from ui.services.instance_page import InstancePage
from ui.services.service_page import ServicePage
from ui.services.tree_delegate import BadgeDelegate
from ui.services.tree_model import CLOUD_KIND, INSTANCE_KIND, KIND_ROLE, NAME_ROLE, ServicesModel
from ui.style import TOUCH_MIN

if TYPE_CHECKING:
    from app.orchestrator.service import Orchestrator
    from ui.bridge import CoreBridge

Confirm = Callable[[str, str, str], bool]
Say = Callable[..., None]  # say(text, error=False): the window's message line


class ServicesSection(QWidget):
    """Built once the core is loaded: ``ServicesSection(bridge, orchestrator, confirm=...,
    say=...)``. The window's header owns Back; :attr:`pane_changed` tells it to look again."""

    pane_changed = Signal()
    """The pane on screen in the touch layout (tree or page) changed."""

    def __init__(self, bridge: CoreBridge, orchestrator: Orchestrator, *, confirm: Confirm,
                 say: Say, touch: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("services-section")
        self.orch = orchestrator
        self.repo = orchestrator.repository
        self.ops = Operations(bridge)
        self._confirm = confirm
        self._touch: bool | None = None
        self._initial_selection = False
        self.instance_page: InstancePage | None = None

        # The tree pane.
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
        # A configuration file in or out: a USB stick's snapshot from a Kura gateway, a copy of a
        # known-good setup.
        self.import_button = QPushButton("Import…")
        self.import_button.setObjectName("import-config")
        self.import_button.setMinimumHeight(TOUCH_MIN)
        self.import_button.setToolTip("Import a Moorings or Kura configuration file: see what it "
                                      "would do first")
        self.import_button.setAccessibleName("Import configuration")
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("export-config")
        self.export_button.setMinimumHeight(TOUCH_MIN)
        self.export_button.setToolTip("Export the configuration as a Moorings or Kura file")
        self.export_button.setAccessibleName("Export configuration")
        self.tree_pane = QWidget()
        self.tree_pane.setObjectName("tree-pane")
        tl = QVBoxLayout(self.tree_pane)
        tl.setContentsMargins(8, 8, 8, 8)
        tl.addWidget(self.add_button)
        files = QHBoxLayout()
        files.setSpacing(6)
        files.addWidget(self.import_button)
        files.addWidget(self.export_button)
        tl.addLayout(files)
        tl.addWidget(self.tree, 1)

        # The page of the selected node.
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.service_page = ServicePage(self.repo.catalog.by_pid(SERVICE_PID))
        self.service_page.form.set_values(self.repo.service_values())
        self.pages.addWidget(self.service_page)
        # The cloud connection, when this core has one: its own row and page.
        self.remote = bridge.remote
        self.cloud_page: CloudPage | None = None
        if self.remote is not None:
            self.cloud_page = CloudPage(self.remote.descriptor, self.remote)
            self.cloud_page.form.set_values(self.remote.values())
            self.cloud_page.show_link(self.remote.link())
            self.pages.addWidget(self.cloud_page)
            self.model.add_cloud(self.remote.descriptor.name or "CloudConnection")
            self.model.update_cloud(self.remote.link())

        # The two layouts share the panes; switching moves them between containers.
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("wide-layout")
        self.splitter.setChildrenCollapsible(False)
        self.narrow = QStackedWidget()
        self.narrow.setObjectName("narrow-layout")
        self.modes = QStackedWidget()
        self.modes.addWidget(self.splitter)
        self.modes.addWidget(self.narrow)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.modes)

        self.flows = ServicesFlows(self, bridge, orchestrator, self.ops, confirm=confirm,
                                   say=say)
        self.service_page.apply_requested.connect(self.flows.apply_service)
        if self.cloud_page is not None:
            self.cloud_page.apply_requested.connect(self.flows.apply_cloud)
        self.add_button.clicked.connect(self.flows.open_factory_dialog)
        self.import_button.clicked.connect(self.flows.open_import_dialog)
        self.export_button.clicked.connect(self.flows.open_export_dialog)
        self.model.set_instances(self.repo.instance_names())
        self.tree.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.set_touch(touch)
        # The service is selected, but on the panel the person starts at the tree.
        self._initial_selection = True
        self.tree.setCurrentIndex(self.model.index(0, 0))
        self._initial_selection = False
        self.pages.setCurrentWidget(self.service_page)

    # -- layout --------------------------------------------------------------------------
    def set_touch(self, touch: bool) -> None:
        if touch == self._touch:
            return
        self._touch = touch
        if touch:
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
        self.pane_changed.emit()

    def touch(self) -> bool:
        return bool(self._touch)

    def showing_page(self) -> bool:
        """In the touch layout, whether the page (not the tree) is on screen: Back is shown."""
        return bool(self._touch) and self.narrow.currentWidget() is self.pages

    def show_tree(self) -> None:
        """Back, on the touch panel (unless the page keeps unapplied changes)."""
        if self._touch and self.may_leave():
            self.narrow.setCurrentWidget(self.tree_pane)
            self.pane_changed.emit()

    def show_page(self) -> None:
        if self._touch:
            self.narrow.setCurrentWidget(self.pages)
            self.pane_changed.emit()

    def _fit_badges_soon(self, *_args: object) -> None:
        if not self._fit_badges.isActive():
            self._fit_badges.start()

    # -- selection -----------------------------------------------------------------------
    def select_service(self) -> None:
        """Select the service and show its page (on the panel too, as a tap on it does)."""
        self.tree.setCurrentIndex(self.model.index(0, 0))
        self.show_page()

    def select_instance(self, name: str) -> None:
        row = self.model.row_of(name)
        if row >= 0:
            self.tree.setCurrentIndex(self.model.index(row, 0))
            self.show_page()

    def current_page(self) -> QWidget | None:
        return self.pages.currentWidget()

    def may_leave(self) -> bool:
        """Whether the person may leave the page on screen: yes unless it has unapplied
        changes they want to keep (they are asked; Discard resets the form)."""
        page = self.current_page()
        if not isinstance(page, FormPage) or not page.form.is_dirty():
            return True
        if self._confirm("Unapplied changes",
                         f"{page.title.text()} has changes that were not applied. Discard "
                         "them?", "Discard changes"):
            page.form.reset()
            return True
        return False

    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if not current.isValid():
            return
        same = (self.instance_page is not None
                and current.data(NAME_ROLE) == self.instance_page.name
                and self.current_page() is self.instance_page)
        if not same and previous.isValid() and not self.may_leave():
            # Stay where the unapplied changes are.
            self.tree.selectionModel().setCurrentIndex(
                previous, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            return
        if current.data(KIND_ROLE) == INSTANCE_KIND:
            self._open_instance(str(current.data(NAME_ROLE)))
        elif current.data(KIND_ROLE) == CLOUD_KIND and self.cloud_page is not None:
            self.pages.setCurrentWidget(self.cloud_page)
        else:
            self.pages.setCurrentWidget(self.service_page)
        if not self._initial_selection:
            self.show_page()

    def _on_clicked(self, index: QModelIndex) -> None:
        # On the panel, after Back, the row the person came from is still current: a tap on
        # it changes no selection, and must open its page all the same.
        if index.isValid() and index.row() == self.tree.currentIndex().row():
            self.show_page()

    # -- the instance page ---------------------------------------------------------------
    def _open_instance(self, name: str) -> None:
        if self.instance_page is not None and self.instance_page.name == name:
            self.pages.setCurrentWidget(self.instance_page)
            return
        self.drop_instance_page()
        inst = self.repo.instance(name)
        page = InstancePage(self.repo.catalog.by_pid(inst.factory), name)
        page.form.set_values(inst.values)
        page.show_status(self.flows.shown_status(name))
        self.flows.serve(page)
        self.pages.addWidget(page)
        self.pages.setCurrentWidget(page)
        self.instance_page = page

    def drop_instance_page(self) -> None:
        """Remove the instance page; results still on their way to it are dropped."""
        page, self.instance_page = self.instance_page, None
        if page is not None:
            self.ops.retire(page)
            self.pages.removeWidget(page)
            page.deleteLater()

"""Every container on the engine: a live, filterable table beside the details panel.

Managed containers point back to their instance instead of being removed here. Row changes
reach the table through a :class:`~ui.inventory.row_batch.RowBatch`; actions go to the
inventory and their results come home through ``ui.operations``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.inventory.feed import FeedState
from app.inventory.rows import ContainerRow
from ui.bridge import CoreBridge, InventoryLike
from ui.dialogs import ask
from ui.formats import short_id
from ui.inventory.containers_model import (
    COLUMNS,
    CREATED,
    IMAGE,
    MANAGED,
    NAME,
    PORTS,
    STARTED,
    STATE,
    ContainersModel,
    ContainersProxy,
)
from ui.inventory.details import ContainerDetails
from ui.inventory.row_batch import RowBatch, Waiting
from ui.inventory.widgets import (
    NARROW_WIDTH,
    PageTop,
    StatusLine,
    configure_table,
    show_stale,
    touch_button,
)
from ui.operations import Operations

# Below NARROW_WIDTH only Name and State stay in the table; below this the two time columns
# go too (the details panel shows them).
WIDE_WIDTH = 1400
DETAILS_WIDTH = 340
NARROW_COLUMNS = (NAME, STATE)
MEDIUM_COLUMNS = (NAME, STATE, IMAGE, PORTS, MANAGED)


class ContainersPage(QWidget):
    """The live list of every container, engine errors shown as errors.

    ``ContainersPage(bridge, inventory, orchestrator)``: the inventory's events arrive
    through the bridge, actions go to the inventory, the orchestrator opens logs. Connect
    :attr:`open_instance` to select that instance in the services tree.
    """

    open_instance = Signal(str)

    def __init__(self, bridge: CoreBridge, inventory: InventoryLike, orchestrator: Any = None,
                 parent: QWidget | None = None, *,
                 logs_opener: Callable[..., Any] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("containers-page")
        self.bridge = bridge
        self.inventory = inventory
        self.ops = Operations(bridge)
        self.orchestrator = orchestrator
        self.logs_opener = logs_opener  # None: app.inventory.logs.open_logs
        self.logs_dialog: QWidget | None = None
        self._tier: str | None = None
        self._selected: str | None = None
        self._ignore_current = False
        self._batch = RowBatch(self._apply_waiting, self)
        self._state: FeedState | None = None
        # Actions under way, by container id: "stopping", "restarting", ... (a stop can take
        # the engine's whole timeout, 10 s, and must not look like nothing happened).
        self._pending: dict[str, str] = {}

        self.model = ContainersModel(self)
        self.proxy = ContainersProxy(self)
        self.proxy.setSourceModel(self.model)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(6)

        top = PageTop("Containers", filter_name="inventory-filter",
                      placeholder="Filter by name, image or instance",
                      count_name="inventory-count", refresh_name="inv-refresh")
        self.filter, self.count_label, self.refresh_button = top.filter, top.count, top.refresh
        self.refresh_button.setToolTip("Read the containers from the engine again")
        outer.addLayout(top.layout)

        self.status = StatusLine("inventory-status")
        outer.addWidget(self.status)

        self.table = QTableView()
        self.table.setObjectName("containers-table")
        self.table.setAccessibleName("Containers")
        self.table.setAccessibleDescription("Every container on the engine; select one for "
                                            "its details and actions")
        self.table.setModel(self.proxy)
        # Every cell is drawn by Qt's own delegate from the model's roles (the State cell
        # tinted in its colour): a repaint runs no Python, and stays cheap while hundreds of
        # rows change at once.
        configure_table(self.table)
        self.table.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)
        self.details = ContainerDetails()

        self.error_label = QLabel("")
        self.error_label.setObjectName("inventory-error")
        self.error_label.setWordWrap(True)
        self.error_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = touch_button("Try again", "inv-retry")
        error_page = QWidget()
        el = QVBoxLayout(error_page)
        el.setContentsMargins(0, 0, 0, 0)
        el.addStretch(1)
        el.addWidget(self.error_label)
        el.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignHCenter)
        el.addStretch(2)

        body = QWidget()
        bl = QHBoxLayout(body)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(8)
        bl.addWidget(self.table, 3)
        bl.addWidget(self.details, 2)
        self.stack = QStackedWidget()
        self.stack.addWidget(body)
        self.stack.addWidget(error_page)
        self.body, self.error_page = body, error_page
        outer.addWidget(self.stack, 1)

        # Wiring: the bridge delivers on the GUI thread; the model updates cell by cell.
        bridge.row_added.connect(self._batch.added)
        bridge.row_changed.connect(self._batch.changed)
        bridge.row_removed.connect(self._batch.removed)
        bridge.feed_state.connect(self.show_state)
        self.filter.textChanged.connect(self._on_filter)
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        self.table.clicked.connect(lambda idx: self._on_current(idx, QModelIndex()))
        # The count and the Name column's width follow the rows, but once per burst: fitting
        # the column measures every name, and 300 rows arriving one by one made that quadratic.
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(250)
        self._count_timer.timeout.connect(self._update_count)
        self.model.rowsInserted.connect(self._count_timer.start)
        self.model.rowsRemoved.connect(self._count_timer.start)
        self.model.modelReset.connect(self._count_timer.start)
        self.refresh_button.clicked.connect(self.refresh)
        self.retry_button.clicked.connect(self.refresh)
        d = self.details
        d.start_button.clicked.connect(lambda: self._act("start"))
        d.stop_button.clicked.connect(lambda: self._act("stop"))
        d.restart_button.clicked.connect(lambda: self._act("restart"))
        d.remove_button.clicked.connect(self.remove_selected)
        d.logs_button.clicked.connect(self.open_logs)
        d.open_instance_button.clicked.connect(self._on_open_instance)

        self.model.load(self.inventory.rows())
        self.show_state(self.inventory.state())
        self.set_tier("wide")

    # -- layout --------------------------------------------------------------------------
    @property
    def narrow(self) -> bool:
        return self._tier == "narrow"

    @property
    def tier(self) -> str:
        """``narrow`` (Name and State), ``medium`` (no times) or ``wide`` (every column)."""
        return self._tier or "wide"

    def set_narrow(self, narrow: bool) -> None:
        self.set_tier("narrow" if narrow else "wide")

    def set_tier(self, tier: str) -> None:
        if tier == self._tier:
            return
        self._tier = tier
        shown = {"narrow": NARROW_COLUMNS, "medium": MEDIUM_COLUMNS}.get(
            tier, tuple(range(len(COLUMNS))))
        for col in range(len(COLUMNS)):
            self.table.setColumnHidden(col, col not in shown)
        hh = self.table.horizontalHeader()
        hh.setStretchLastSection(False)
        # Fit columns to the rows on screen, not to all of them: measuring 300 rows through
        # the delegate took 60 ms each time.
        hh.setResizeContentsPrecision(0)
        interactive = QHeaderView.ResizeMode.Interactive
        for col in range(len(COLUMNS)):
            hh.setSectionResizeMode(col, interactive)
        # Not ResizeToContents: that measures every row at every change (quadratic over a
        # burst of 300 containers); the width is fitted once per burst in _update_count.
        self._fit_state()
        lay = self.body.layout()
        assert isinstance(lay, QHBoxLayout)
        if tier == "narrow":
            hh.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
            self.details.setMinimumWidth(0)
            self.details.setMaximumWidth(16777215)
            lay.setStretch(0, 1)
            lay.setStretch(1, 1)
        else:
            hh.setSectionResizeMode(IMAGE, QHeaderView.ResizeMode.Stretch)
            for col, width in ((PORTS, 230), (MANAGED, 180), (CREATED, 130), (STARTED, 130)):
                self.table.setColumnWidth(col, width)
            self._fit_name()
            self.details.setFixedWidth(DETAILS_WIDTH)
            lay.setStretch(0, 1)
            lay.setStretch(1, 0)

    def _fit_state(self) -> None:
        self.table.resizeColumnToContents(STATE)
        self.table.setColumnWidth(STATE, max(110, self.table.columnWidth(STATE)))

    def _fit_name(self) -> None:
        """The Name column as wide as the longest name, within reason (never elided short)."""
        if self._tier in (None, "narrow"):
            return
        self.table.resizeColumnToContents(NAME)
        width = self.table.columnWidth(NAME)
        self.table.setColumnWidth(NAME, max(120, min(width + 8, 260)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        width = event.size().width()
        self.set_tier("narrow" if width < NARROW_WIDTH else
                      "medium" if width < WIDE_WIDTH else "wide")

    # -- feed ----------------------------------------------------------------------------
    def show_state(self, state: FeedState | None) -> None:
        self._state = state
        self.status.show_feed(state)
        kind = state.state if state is not None else "live"
        stale = kind == "stale"
        self.model.set_stale(stale)
        show_stale(self.table, stale)
        self.count_label.setVisible(kind != "error")
        if kind == "error":
            self.error_label.setText(
                state.reason if state is not None and state.reason
                else "The Docker engine reported an error; the list of containers is unknown.")
            self.stack.setCurrentWidget(self.error_page)
        else:
            self.stack.setCurrentWidget(self.body)

    @property
    def feed(self) -> FeedState | None:
        return self._state

    def refresh(self) -> None:
        self.status.show_message("Reading the containers from the engine…")
        self.ops.run(self.inventory.refresh, owner=self,
                     on_success=lambda _r: self.status.show_message(""),
                     on_failure=lambda f: self.status.show_message(f.sentence, error=True))

    # -- model updates -------------------------------------------------------------------
    def _apply_waiting(self, waiting: Waiting) -> None:
        for cid, (row, fields) in waiting.items():
            if row is None:
                self._remove(cid)
            elif fields is None or self.model.row_of(cid) < 0:
                self.model.add_row(row)
            else:
                self.model.change_row(row, fields)
            if row is not None and cid == self._selected:
                self.details.show_row(row, pending=self._pending.get(cid))

    def flush(self) -> None:
        """Apply the row changes waiting for the next apply now (tests, and before a look at
        the rows that must be current)."""
        self._batch.flush()

    def _remove(self, container_id: str) -> None:
        if container_id != self._selected:
            self.model.remove_row(container_id)
            return
        # Qt moves the current index to a neighbour: the panel must not silently switch to
        # another container, it says this one is gone.
        self._ignore_current = True
        try:
            self.model.remove_row(container_id)
            self.table.selectionModel().clear()
        finally:
            self._ignore_current = False
        if self.details.row is not None:
            self.details.show_row(self.details.row, gone=True)

    def _on_filter(self, text: str) -> None:
        # Hiding the selected row must not make a neighbour's details appear in its place.
        self._ignore_current = True
        try:
            self.proxy.set_filter_text(text)
        finally:
            self._ignore_current = False
        if self._selected is not None:
            src = self.model.row_of(self._selected)
            index = self.proxy.mapFromSource(self.model.index(src, 0)) if src >= 0 \
                else QModelIndex()
            if index.isValid():
                self.table.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows)
            else:
                self.table.selectionModel().clear()
                self._selected = None
                self.details.show_row(None)
        self._update_count()

    def _update_count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        self.count_label.setText(f"{shown} of {total}" if shown != total
                                 else f"{total} container{'s' if total != 1 else ''}")
        self._fit_name()
        self._fit_state()
        self.count_label.setToolTip(f"{shown} containers shown of {total} on the engine")

    # -- selection -----------------------------------------------------------------------
    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._ignore_current:
            return
        source = self.proxy.mapToSource(current) if current.isValid() else QModelIndex()
        row = self.model.row_at(source.row()) if source.isValid() else None
        if row is not None:
            self.show_details(row)

    def show_details(self, row: ContainerRow) -> None:
        if row.id != self._selected:
            self.status.show_message("")
        self._selected = row.id
        self.details.show_row(row, pending=self._pending.get(row.id))

    def select(self, container_id: str) -> bool:
        """Select a container by id (as a tap on its row would); False when it is not
        shown."""
        self.flush()
        src = self.model.row_of(container_id)
        if src < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(src, 0))
        if not index.isValid():
            return False
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        row = self.model.row_at(src)
        if row is not None:
            self.show_details(row)
        return True

    def selected_row(self) -> ContainerRow | None:
        return self.details.row

    # -- actions -------------------------------------------------------------------------
    def confirm(self, title: str, text: str, yes: str) -> bool:
        """Ask a yes/no question (tests replace this method)."""
        return ask(self, title, text, yes)

    def _act(self, verb: str) -> None:
        row = self.details.row
        if row is None:
            return
        call: dict[str, Callable[[str], Future[Any]]] = {
            "start": self.inventory.start_container,
            "stop": self.inventory.stop_container,
            "restart": self.inventory.restart_container,
            "remove": self.inventory.remove_container,
        }
        doing = {"start": "Starting", "stop": "Stopping", "restart": "Restarting",
                 "remove": "Removing"}[verb]
        done_word = {"start": "started", "stop": "stopped", "restart": "restarted",
                     "remove": "removed"}[verb]
        name, cid = row.name, row.id
        self.status.show_message(f"{doing} {name}…")

        def succeeded(_result: object) -> None:
            if self.status.message.startswith(doing):
                self.status.show_message(f"{name} {done_word}.")
        self.ops.run(lambda: call[verb](cid), owner=self, on_success=succeeded,
                     on_failure=lambda f: self.status.show_message(f.sentence, error=True),
                     busy=lambda on: self._set_pending(cid, doing.lower() if on else None))

    def _set_pending(self, cid: str, doing: str | None) -> None:
        if doing is None:
            self._pending.pop(cid, None)
        else:
            self._pending[cid] = doing
        row = self.details.row
        if row is not None and row.id == cid and cid == self._selected:
            latest = self.model.row_for(cid) or row
            self.details.show_row(latest, gone=self.model.row_of(cid) < 0,
                                  pending=self._pending.get(cid))

    def remove_selected(self) -> None:
        row = self.details.row
        if row is None:
            return
        if row.instance:
            self.status.show_message(
                f"This container belongs to the instance {row.instance}: disable or delete "
                f"{row.instance} in Services to remove it.", error=True)
            return
        running = row.state in ("running", "restarting", "paused")
        text = (f"This deletes the container {row.name} ({short_id(row.id)}) from the engine"
                + (", stopping it first" if running else "")
                + ". Its image stays. This cannot be undone.")
        if not self.confirm(f"Remove {row.name}?", text, "Remove"):
            return
        self._act("remove")

    def _on_open_instance(self) -> None:
        row = self.details.row
        if row is not None and row.instance:
            self.open_instance.emit(row.instance)

    def open_logs(self) -> QWidget | None:
        row = self.details.row
        if row is None:
            return None
        from ui.inventory.logs_dialog import LogsDialog

        if self.logs_dialog is not None:
            self.logs_dialog.close()
        dialog = LogsDialog(self.bridge, self.orchestrator, row.id, row.name,
                            opener=self.logs_opener, parent=self)
        dialog.finished.connect(lambda _r: self._forget_logs(dialog))
        self.logs_dialog = dialog
        dialog.show_sized()
        return dialog

    def _forget_logs(self, dialog: QWidget) -> None:
        if self.logs_dialog is dialog:
            self.logs_dialog = None
        dialog.deleteLater()

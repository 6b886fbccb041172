"""Every container on the engine: a live, filterable table, a details panel and finger-sized
actions. Managed containers point back to their instance instead of being removed here."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QPainter, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QScroller,
    QSizePolicy,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.inventory.feed import FeedState
from app.inventory.rows import ContainerRow
from ui.badge_delegate import ROW_HEIGHT
from ui.bridge import CoreBridge, error_sentence
from ui.dialogs import ask
from ui.form.editors import TOUCH_MIN
from ui.input_hints import technical
from ui.inventory import AMBER, BLUE, DASH, GREEN, GREY, RED, clock, short_id, state_colour
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
    image_text,
    ports_text,
)

# Below this width only Name and State stay in the table; the details panel shows the rest.
NARROW_WIDTH = 900
# Below this width the two time columns go too (the details panel shows them).
WIDE_WIDTH = 1400
DETAILS_WIDTH = 340
# Row changes reach the table at most this often: the first at once, the rest of a burst
# (300 containers starting) gathered, each container once, so the table repaints a few
# times a second instead of after every event.
APPLY_INTERVAL_S = 0.1
NARROW_COLUMNS = (NAME, STATE)
MEDIUM_COLUMNS = (NAME, STATE, IMAGE, PORTS, MANAGED)
BLUE_INFO = "#1f3b73"


def _feed_line(state: FeedState | None) -> tuple[str, str]:
    """The status line's words and colour for a feed state."""
    if state is None:
        return "Connecting…", GREY
    if state.state == "live":
        return "● Live", GREEN
    if state.state == "reconnecting":
        return "Reconnecting…", AMBER
    if state.state == "stale":
        since = f" since {time.strftime('%H:%M:%S', time.localtime(state.since))}" \
            if state.since else ""
        reason = f" — {state.reason}" if state.reason else ""
        return f"Stale{since}{reason}", RED
    # The sentence itself takes the table's place (see ContainersPage.show_state).
    return "Engine error", RED


class StatusLine(QLabel):
    """One line for the feed (Live / Reconnecting… / Stale since …) and, under it, the last
    action's sentence (red when it failed). Shared by the containers and images pages."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.setStyleSheet("padding: 2px 2px;")
        self.feed: FeedState | None = None
        self.message = ""
        self.message_is_error = False
        self._render()

    def show_feed(self, state: FeedState | None) -> None:
        self.feed = state
        self._render()

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message = text
        self.message_is_error = error
        self._render()

    def plain_text(self) -> str:
        feed, _ = _feed_line(self.feed)
        return f"{feed}\n{self.message}" if self.message else feed

    def _render(self) -> None:
        feed, colour = _feed_line(self.feed)
        parts = [f"<span style='color:{colour}; font-weight:bold'>{html.escape(feed, False)}"
                 "</span>"]
        if self.message:
            mcolour = RED if self.message_is_error else BLUE_INFO
            weight = "bold" if self.message_is_error else "normal"
            parts.append(f"<span style='color:{mcolour}; font-weight:{weight}'>"
                         f"{html.escape(self.message, False)}</span>")
        self.setText("<br>".join(parts))
        self.setAccessibleName("Status: " + self.plain_text().replace("\n", ". "))
        self.setToolTip(self.feed.reason if self.feed is not None and self.feed.reason else "")


class GreyableDelegate(QStyledItemDelegate):
    """Cells drawn as usual, faded while the data is stale (the Images table's cells; the
    Containers table's are drawn by Qt from its model's roles)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stale = False

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        painter.save()
        if self.stale:
            painter.setOpacity(0.4)
        super().paint(painter, option, index)
        painter.restore()


def touch_button(text: str, name: str, *, danger: bool = False) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setMinimumHeight(TOUCH_MIN)
    button.setMinimumWidth(88)
    if danger:
        button.setProperty("role", "danger")
    return button


class PageTop:
    """The top of an inventory page: title, filter box, a count and Refresh, in one row."""

    def __init__(self, title: str, *, filter_name: str, placeholder: str, count_name: str,
                 refresh_name: str) -> None:
        self.layout = QHBoxLayout()
        self.layout.setSpacing(8)
        heading = QLabel(title)
        heading.setObjectName("page-title")
        self.filter = QLineEdit()
        self.filter.setObjectName(filter_name)
        self.filter.setPlaceholderText(placeholder)
        self.filter.setClearButtonEnabled(True)
        self.filter.setMinimumHeight(TOUCH_MIN)
        self.filter.setAccessibleName(f"Filter {title.lower()}")
        technical(self.filter)
        self.count = QLabel("")
        self.count.setObjectName(count_name)
        self.count.setStyleSheet("color: #4a4f57;")
        self.refresh = touch_button("Refresh", refresh_name)
        self.refresh.setMinimumWidth(0)
        self.layout.addWidget(heading)
        self.layout.addWidget(self.filter, 1)
        self.layout.addWidget(self.count)
        self.layout.addWidget(self.refresh)


def configure_table(table: QTableView) -> None:
    """A touch-friendly table: whole rows, one at a time, 48 px high, flickable."""
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSortingEnabled(True)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    table.setShowGrid(False)
    vh = table.verticalHeader()
    vh.setVisible(False)
    vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    vh.setDefaultSectionSize(ROW_HEIGHT)
    vh.setMinimumSectionSize(ROW_HEIGHT)
    hh = table.horizontalHeader()
    # A header is tapped to sort: a touch target like any other.
    hh.setMinimumHeight(TOUCH_MIN)
    hh.setHighlightSections(False)
    hh.setSectionsClickable(True)
    hh.setSortIndicatorShown(True)
    table.setStyleSheet(
        "QTableView { background: #ffffff; alternate-background-color: #f5f7fa;"
        " border: 1px solid #c4c8cd; border-radius: 6px; font-size: 11pt; }"
        "QTableView::item { padding: 0px 8px; }"
        "QTableView::item:selected { background: #d6e4f7; color: #1c1f23; }"
        "QTableView[stale=\"true\"] { background: #f1f2f4; color: #80868b;"
        " alternate-background-color: #eceef1; }"
        "QHeaderView::section { padding: 4px 8px; background: #eceef1; border: none;"
        " border-bottom: 1px solid #c4c8cd; font-weight: bold; }")
    # Flick to scroll on a touch screen; a mouse keeps selecting as usual.
    QScroller.grabGesture(table.viewport(), QScroller.ScrollerGestureType.TouchGesture)


class ElidingButton(QPushButton):
    """A push button that fits any width: a text longer than the button is shortened in the
    middle (a long instance name keeps its start and its end), never cut at both edges."""

    PADDING = 28  # the style's margins inside the button, both sides together

    def __init__(self) -> None:
        super().__init__()
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self._elide()
        self.updateGeometry()

    def full_text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        # +2: the advance is rounded, and eliding compares it with the room to the pixel.
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + self.PADDING + 2,
                     hint.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.PADDING + self.fontMetrics().horizontalAdvance("Open…"),
                     super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        room = max(0, self.width() - self.PADDING)
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle,
                                                   room))


class ContainerDetails(QFrame):
    """The tapped container: what it is, and big buttons for what can be done with it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("container-details")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "QFrame#container-details { background: #ffffff; border: 1px solid #c4c8cd;"
            " border-radius: 6px; }"
            "QLabel[detail=\"key\"] { color: #4a4f57; }"
            "QLabel#inv-details-name { font-size: 14pt; font-weight: bold; color: #1c1f23; }")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 8, 10, 8)
        outer.setSpacing(6)

        self.placeholder = QLabel("Tap a container to see its details and what you can do "
                                  "with it.")
        self.placeholder.setObjectName("inv-details-placeholder")
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: #5f6368;")

        info = QWidget()
        info.setObjectName("inv-details-info")
        info.setStyleSheet("QWidget#inv-details-info { background: transparent; }")
        il = QVBoxLayout(info)
        il.setContentsMargins(0, 0, 0, 0)
        il.setSpacing(4)
        head = QHBoxLayout()
        self.name_label = QLabel("")
        self.name_label.setObjectName("inv-details-name")
        self.name_label.setWordWrap(True)
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state_label = QLabel("")
        self.state_label.setObjectName("inv-details-state")
        self.state_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        head.addWidget(self.name_label, 1)
        head.addWidget(self.state_label, 0, Qt.AlignmentFlag.AlignTop)
        il.addLayout(head)
        self.status_text = QLabel("")
        self.status_text.setObjectName("inv-details-status")
        self.status_text.setWordWrap(True)
        self.status_text.setStyleSheet("color: #4a4f57;")
        il.addWidget(self.status_text)

        form = QFormLayout()
        form.setContentsMargins(0, 4, 0, 0)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(4)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.values: dict[str, QLabel] = {}
        for key, title in (("image", "Image"), ("ports", "Ports"), ("created", "Created"),
                           ("started", "Started"), ("id", "Id")):
            value = QLabel("")
            value.setObjectName(f"inv-details-{key}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            key_label = QLabel(title)
            key_label.setProperty("detail", "key")
            form.addRow(key_label, value)
            self.values[key] = value
        managed_key = QLabel("Managed by")
        managed_key.setProperty("detail", "key")
        self.managed_value = QLabel(DASH)
        self.managed_value.setObjectName("inv-details-managed")
        self.open_instance_button = ElidingButton()
        self.open_instance_button.setObjectName("inv-open-instance")
        self.open_instance_button.setMinimumHeight(TOUCH_MIN)
        self.open_instance_button.setToolTip("Open this instance in Services")
        self.open_instance_button.setStyleSheet("QPushButton { color: #0b5cad; "
                                                "font-weight: bold; }")
        managed_box = QHBoxLayout()
        managed_box.setContentsMargins(0, 0, 0, 0)
        managed_box.addWidget(self.managed_value)
        managed_box.addWidget(self.open_instance_button)
        managed_box.addStretch(1)
        form.addRow(managed_key, managed_box)
        il.addLayout(form)
        il.addStretch(1)

        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("inv-details-scroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # it holds no control
        self.scroll_area.setWidget(info)
        self.scroll_area.setStyleSheet("QScrollArea { background: transparent; }")
        QScroller.grabGesture(self.scroll_area.viewport(),
                              QScroller.ScrollerGestureType.TouchGesture)

        self.start_button = touch_button("Start", "inv-start")
        self.stop_button = touch_button("Stop", "inv-stop")
        self.restart_button = touch_button("Restart", "inv-restart")
        self.logs_button = touch_button("Logs", "inv-logs")
        self.remove_button = touch_button("Remove", "inv-remove", danger=True)
        self.buttons = QWidget()
        self.buttons.setObjectName("inv-actions")
        grid = QGridLayout(self.buttons)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        grid.addWidget(self.start_button, 0, 0)
        grid.addWidget(self.stop_button, 0, 1)
        grid.addWidget(self.restart_button, 0, 2)
        grid.addWidget(self.logs_button, 1, 0)
        grid.addWidget(self.remove_button, 1, 2)

        outer.addWidget(self.placeholder, 1)
        outer.addWidget(self.scroll_area, 1)
        outer.addWidget(self.buttons)
        self.row: ContainerRow | None = None
        self.show_row(None)

    def show_row(self, row: ContainerRow | None, *, gone: bool = False,
                 pending: str | None = None) -> None:
        """``pending``: the action under way on this container ("stopping", ...): its badge
        says so and no other action can be pressed until it is over."""
        self.row = row
        shown = row is not None
        self.placeholder.setVisible(not shown)
        self.scroll_area.setVisible(shown)
        self.buttons.setVisible(shown)
        if row is None:
            return
        self.name_label.setText(row.name)
        colour = GREY if gone else BLUE if pending else state_colour(row.state, row.exit_code,
                                                                      row.health)
        self.state_label.setText("removed" if gone else pending or row.state_label())
        self.state_label.setStyleSheet(
            f"QLabel {{ background: {colour}; color: white; border-radius: 10px;"
            " padding: 3px 12px; font-weight: bold; }")
        self.status_text.setText("This container is no longer on the engine." if gone
                                 else row.status_text)
        self.values["image"].setText(image_text(row))
        self.values["ports"].setText(ports_text(row.ports).replace(", ", "\n") or DASH)
        self.values["created"].setText(clock(row.created))
        self.values["started"].setText(clock(row.started) if row.state == "running" else DASH)
        self.values["id"].setText(short_id(row.id))
        self.managed_value.setVisible(not row.instance)
        self.managed_value.setText("Moorings (no instance)" if row.managed else DASH)
        self.open_instance_button.setVisible(bool(row.instance))
        self.open_instance_button.set_full_text(f"Open {row.instance}  ›" if row.instance else "")
        running = row.state in ("running", "restarting", "paused")
        idle = not gone and not pending
        self.start_button.setEnabled(idle and not running and row.state != "removing")
        self.stop_button.setEnabled(idle and running)
        self.restart_button.setEnabled(idle and row.state in ("running", "exited", "dead",
                                                              "created"))
        self.logs_button.setEnabled(not gone)
        self.remove_button.setEnabled(idle and row.state != "removing")
        self.remove_button.setToolTip(
            f"Managed by the instance {row.instance}: remove it in Services" if row.instance
            else "Remove this container from the engine")


class ContainersPage(QWidget):
    """The live list of every container, engine errors shown as errors.

    Embed with ``ContainersPage(CoreBridge(inventory=inventory), orchestrator)``; connect
    :attr:`open_instance` to select that instance in the services tree.
    """

    open_instance = Signal(str)

    def __init__(self, bridge: CoreBridge, orchestrator: Any = None,
                 parent: QWidget | None = None, *,
                 logs_opener: Callable[..., Any] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("containers-page")
        self.bridge = bridge
        self.inventory = bridge.inventory
        self.orchestrator = orchestrator
        self.logs_opener = logs_opener  # None: app.inventory.logs.open_logs
        self.logs_dialog: QWidget | None = None
        self._tier: str | None = None
        self._selected: str | None = None
        self._ignore_current = False
        # Row changes waiting for the next apply: id -> (row or None when removed, fields;
        # None for "the whole row": an add).
        self._waiting: dict[str, tuple[ContainerRow | None, frozenset[str] | None]] = {}
        self._applied_at = 0.0
        self._apply_timer = QTimer(self)
        self._apply_timer.setSingleShot(True)
        self._apply_timer.timeout.connect(self._apply_waiting)
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
        self.error_label.setStyleSheet(
            "QLabel { color: #b00020; background: #fdecee; border: 2px solid #b00020;"
            " border-radius: 6px; padding: 16px; font-size: 12pt; font-weight: bold; }")
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
        bridge.row_added.connect(self._on_added)
        bridge.row_changed.connect(self._on_changed)
        bridge.row_removed.connect(self._on_removed)
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
        self.table.setProperty("stale", "true" if stale else "false")
        self.model.set_stale(stale)
        style = self.table.style()
        style.unpolish(self.table)
        style.polish(self.table)
        self.table.viewport().update()
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

        def done(f: Future[Any]) -> None:
            exc = f.exception()
            self.status.show_message(error_sentence(exc) if exc is not None else "",
                                     error=exc is not None)
        self.bridge.when_done(self.inventory.refresh(), done)

    # -- model updates -------------------------------------------------------------------
    def _on_added(self, row: ContainerRow) -> None:
        self._wait(row.id, row, None)

    def _on_changed(self, row: ContainerRow, fields: frozenset[str]) -> None:
        old = self._waiting.get(row.id)
        if old is not None and old[0] is not None:
            # Still waiting: one change with every field (an add stays a whole-row change).
            fields = frozenset() if old[1] is None else old[1] | fields
            self._wait(row.id, row, None if old[1] is None else fields)
        else:
            self._wait(row.id, row, fields)

    def _on_removed(self, container_id: str) -> None:
        self._wait(container_id, None, frozenset())

    def _wait(self, cid: str, row: ContainerRow | None, fields: frozenset[str] | None) -> None:
        self._waiting.pop(cid, None)  # re-inserted last: changes apply in arrival order
        self._waiting[cid] = (row, fields)
        if self._apply_timer.isActive():
            return
        quiet = time.monotonic() - self._applied_at
        if quiet >= APPLY_INTERVAL_S:
            self._apply_waiting()
        else:
            self._apply_timer.start(max(1, round((APPLY_INTERVAL_S - quiet) * 1000)))

    def _apply_waiting(self) -> None:
        self._applied_at = time.monotonic()
        waiting, self._waiting = self._waiting, {}
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
        self._apply_timer.stop()
        if self._waiting:
            self._apply_waiting()

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
        try:
            future = call[verb](cid)
        except Exception as exc:  # noqa: BLE001 - a refusal up front is shown like any other
            self.status.show_message(error_sentence(exc), error=True)
            return
        self._set_pending(cid, doing.lower())

        def done(f: Future[Any]) -> None:
            self._set_pending(cid, None)
            exc = f.exception()
            if exc is not None:
                self.status.show_message(error_sentence(exc), error=True)
            elif self.status.message.startswith(doing):
                self.status.show_message(f"{name} {done_word}.")
        self.bridge.when_done(future, done)

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
        dialog = LogsDialog(self.orchestrator, row.id, row.name, opener=self.logs_opener,
                            parent=self)
        dialog.finished.connect(lambda _r: self._forget_logs(dialog))
        self.logs_dialog = dialog
        dialog.show_sized()
        return dialog

    def _forget_logs(self, dialog: QWidget) -> None:
        if self.logs_dialog is dialog:
            self.logs_dialog = None
        dialog.deleteLater()

"""What the Containers and Images pages share: the status line, the top row, the table's
touch set-up, the stale-greying delegate, finger-sized buttons and a middle-eliding button."""

from __future__ import annotations

import html
import time

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QPainter, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScroller,
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from app.inventory.feed import FeedState
from ui.input_hints import technical
from ui.style import (
    BAD,
    BUTTON_MIN_WIDTH,
    GOOD,
    IDLE,
    INFO,
    ROW_HEIGHT,
    TOUCH_MIN,
    WAITING,
    set_style_property,
)

# Below this width a page keeps only its main columns; the details (or the selection line)
# show the rest.
NARROW_WIDTH = 900


def _feed_line(state: FeedState | None) -> tuple[str, str]:
    """The status line's words and colour for a feed state."""
    if state is None:
        return "Connecting…", IDLE
    if state.state == "live":
        return "● Live", GOOD
    if state.state == "reconnecting":
        return "Reconnecting…", WAITING
    if state.state == "stale":
        since = f" since {time.strftime('%H:%M:%S', time.localtime(state.since))}" \
            if state.since else ""
        reason = f" — {state.reason}" if state.reason else ""
        return f"Stale{since}{reason}", BAD
    # The sentence itself takes the table's place (see ContainersPage.show_state).
    return "Engine error", BAD


class StatusLine(QLabel):
    """One line for the feed (Live / Reconnecting… / Stale since …) and, under it, the last
    action's sentence (red when it failed). Rich text, coloured from ui.style: one label a
    screen reader reads as one status."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
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
            mcolour = BAD if self.message_is_error else INFO
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
    button.setMinimumWidth(BUTTON_MIN_WIDTH)
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
        self.count.setProperty("muted", True)
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
    # Its colours, grey while stale (see show_stale), are the style sheet's. Flick to scroll
    # on a touch screen; a mouse keeps selecting as usual.
    QScroller.grabGesture(table.viewport(), QScroller.ScrollerGestureType.TouchGesture)


def show_stale(table: QTableView, stale: bool) -> None:
    """Grey the table (its ``stale`` property in the style sheet) while its rows are what the
    engine last said, not what it says now."""
    set_style_property(table, "stale", "true" if stale else "false")
    table.viewport().update()


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

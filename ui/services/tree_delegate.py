"""Draws the State column as a coloured pill and gives every row a finger-sized height."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyledItemDelegate

from ui.style import IDLE, ROW_HEIGHT, WHITE

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

PILL_PADDING = 20  # the pill's width beyond its text
PILL_MARGIN = 6  # between the pill and the cell's right edge
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)


@cache
def _item_panel() -> QStyle.PrimitiveElement:
    # QStyle's Python enums take milliseconds to build: not before the first pill, which comes
    # after the window is on screen. Once: an import statement in paint() costs PySide's
    # import hook at every row.
    from PySide6.QtWidgets import QStyle

    return QStyle.PrimitiveElement.PE_PanelItemViewItem


class BadgeDelegate(QStyledItemDelegate):
    """Column 1 (State) becomes a pill in the row's badge colour; others draw as usual.

    The pill asks the model for its two roles only: the full style option (initStyleOption)
    asks for about ten, through Python, at every repaint of every row while states change.
    """

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        if index.column() != 1:
            size = super().sizeHint(option, index)
            return QSize(size.width(), max(size.height(), ROW_HEIGHT))
        text = index.data(_DISPLAY)
        font = QFont(option.font)
        font.setBold(True)
        metrics = QFontMetrics(font)
        width = metrics.horizontalAdvance(text if isinstance(text, str) else "")
        return QSize(width + PILL_PADDING + 2 * PILL_MARGIN,
                     max(metrics.height() + 14, ROW_HEIGHT))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        if index.column() != 1:
            super().paint(painter, option, index)
            return
        # The cell's background and selection, as the view draws them, then the pill.
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawPrimitive(_item_panel(), option, painter, widget)
        data = index.data(_DISPLAY)
        text = data if isinstance(data, str) else ""
        brush = index.data(_FOREGROUND)
        colour = brush.color() if isinstance(brush, QBrush) else QColor(IDLE)
        metrics = option.fontMetrics
        width = metrics.horizontalAdvance(text) + PILL_PADDING
        height = metrics.height() + 10
        rect: QRect = option.rect
        pill = QRect(rect.right() - width - PILL_MARGIN, rect.center().y() - height // 2,
                     width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(pill, height / 2, height / 2)
        painter.setPen(QColor(WHITE))
        font = painter.font()
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

"""Draws the State column as a coloured pill and gives every row a finger-sized height."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QPainter
from PySide6.QtWidgets import QStyledItemDelegate

from ui.style import IDLE, ROW_HEIGHT, WHITE

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStyleOptionViewItem

PILL_PADDING = 20  # the pill's width beyond its text
PILL_MARGIN = 6  # between the pill and the cell's right edge


class BadgeDelegate(QStyledItemDelegate):
    """Column 1 (State) becomes a pill in the row's badge colour; others draw as usual."""

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width() + (24 if index.column() == 1 else 0),
                     max(size.height(), ROW_HEIGHT))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        if index.column() != 1:
            super().paint(painter, option, index)
            return
        # QStyle's Python enums take milliseconds to build: not before the first pill, which
        # comes after the window is on screen.
        from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

        # Selection background first, then the pill on top of it.
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        brush = index.data(Qt.ItemDataRole.ForegroundRole)
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

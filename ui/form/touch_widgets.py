"""The touch-sized input widgets the field editors are made of: an on/off switch, a dropdown a
screen reader announces by its label, and a text box that grows with its lines."""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import (
    QAccessible,
    QAccessibleActionInterface,
    QAccessibleInterface,
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAccessibleWidget,
    QComboBox,
    QPlainTextEdit,
    QSizePolicy,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QWidget,
)
from shiboken6 import isValid

from ui.style import ACCENT, SWITCH_OFF, TOUCH_MIN, WHITE


class ToggleSwitch(QAbstractButton):
    """A touch-sized on/off switch: a track with a knob, and the word On or Off beside it."""

    TRACK_W = 60
    TRACK_H = 32
    GAP = 12
    ON_COLOUR = QColor(ACCENT)
    OFF_COLOUR = QColor(SWITCH_OFF)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCheckable(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(TOUCH_MIN)
        self.toggled.connect(self._update_text)
        self._update_text(False)

    def _update_text(self, on: bool) -> None:
        self.setText("On" if on else "Off")
        self.update()

    def _label_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        return font

    def sizeHint(self) -> QSize:
        fm = QFontMetrics(self._label_font())
        text_w = max(fm.horizontalAdvance("On"), fm.horizontalAdvance("Off"))
        return QSize(4 + self.TRACK_W + self.GAP + text_w + 8, max(TOUCH_MIN, fm.height() + 8))

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        on = self.isChecked()
        enabled = self.isEnabled()
        track = QRectF(2, (self.height() - self.TRACK_H) / 2, self.TRACK_W, self.TRACK_H)
        colour = QColor(self.ON_COLOUR if on else self.OFF_COLOUR)
        if not enabled:
            colour.setAlpha(110)
        if self.isDown():
            colour = colour.darker(115)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        radius = self.TRACK_H / 2
        p.drawRoundedRect(track, radius, radius)
        knob_d = self.TRACK_H - 8
        knob_x = track.right() - 4 - knob_d if on else track.left() + 4
        p.setBrush(QColor(WHITE))
        p.drawEllipse(QRectF(knob_x, track.top() + 4, knob_d, knob_d))
        if self.hasFocus():
            pen = QPen(self.palette().highlight().color(), 2)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(track.adjusted(-1, -1, 1, 1), radius + 1, radius + 1)
        p.setFont(self._label_font())
        text_colour = self.palette().windowText().color()
        if not enabled:
            text_colour.setAlpha(120)
        p.setPen(text_colour)
        text_rect = QRectF(track.right() + self.GAP, 0, self.width() - track.right(), self.height())
        p.drawText(text_rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                   self.text())
        p.end()


class _NamedComboAccessible(QAccessibleWidget):
    """A dropdown as a screen reader should hear it: its label as its name, its choice as its
    value. (Qt on Linux names a combo box by its current text, so "Logger Type" was read as
    "DEFAULT", and relies on a label relation that readers do not all follow.)"""

    def __init__(self, combo: QComboBox) -> None:
        super().__init__(combo, QAccessible.Role.ComboBox)
        self._combo = combo

    def text(self, t: QAccessible.Text) -> str:
        if t == QAccessible.Text.Name and self._combo.accessibleName():
            return self._combo.accessibleName()
        if t == QAccessible.Text.Value:
            return self._combo.currentText()
        return str(super().text(t))

    def actionNames(self) -> list[str]:
        return [QAccessibleActionInterface.showMenuAction(),
                *[a for a in super().actionNames()
                  if a != QAccessibleActionInterface.showMenuAction()]]

    def doAction(self, action: str) -> None:
        if action in (QAccessibleActionInterface.showMenuAction(),
                      QAccessibleActionInterface.pressAction()):
            self._combo.showPopup()
        else:
            super().doAction(action)


def _combo_accessible(key: str, obj: QObject) -> QAccessibleInterface | None:
    if key == "TouchComboBox" and isinstance(obj, TouchComboBox):
        return _NamedComboAccessible(obj)
    return None


_combo_factory_installed = False


class TouchComboBox(QComboBox):
    """A QComboBox whose arrow is a chevron big enough to read at arm's length, announced to
    a screen reader by its accessible name (its label), not by its value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        global _combo_factory_installed
        if not _combo_factory_installed:
            QAccessible.installFactory(_combo_accessible)
            _combo_factory_installed = True
        super().__init__(parent)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        arrow = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, opt, QStyle.SubControl.SC_ComboBoxArrow, self
        )
        opt.subControls = opt.subControls & ~QStyle.SubControl.SC_ComboBoxArrow
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, opt)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, opt)
        colour = self.palette().color(QPalette.ColorRole.Text)
        if not self.isEnabled():
            colour.setAlpha(110)
        pen = QPen(colour, 2.5)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pen)
        c = QRectF(arrow).center()
        w, h = 7.0, 4.5
        painter.drawPolyline(
            [QPointF(c.x() - w, c.y() - h / 2), QPointF(c.x(), c.y() + h),
             QPointF(c.x() + w, c.y() - h / 2)]
        )
        painter.end()


class GrowingPlainTextEdit(QPlainTextEdit):
    """A word-wrapped text box of about three lines that grows with its content (to a cap)."""

    MIN_LINES = 3
    MAX_LINES = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setTabChangesFocus(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self._fit()

    def _lines(self) -> int:
        # For a plain text document the layout's height is its number of (wrapped) lines.
        return max(1, math.ceil(self.document().documentLayout().documentSize().height()))

    def _fit(self, *_: object) -> None:
        if not isValid(self):
            return  # the document outlives the editor by a moment when a page is deleted
        lines = min(max(self._lines(), self.MIN_LINES), self.MAX_LINES)
        margins = self.contentsMargins()
        height = (
            lines * self.fontMetrics().lineSpacing()
            + 2 * self.document().documentMargin()
            + margins.top() + margins.bottom()
            + 2 * self.frameWidth() + 2
        )
        height = max(math.ceil(height), TOUCH_MIN)
        if self.height() != height or self.minimumHeight() != height:
            self.setFixedHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # Re-wrapping at a new width changes the number of lines.
        QTimer.singleShot(0, self._fit)

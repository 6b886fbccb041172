"""An instance's history, newest first: when, what kind of thing, and the core's own words.

The summary line on top answers the question a technician comes with: "why did it restart?"
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QScroller,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.orchestrator.history import HistoryEntry
from ui.formats import clock
from ui.style import set_style_property

MAX_ROWS = 500

# kind -> (glyph, tone: ui.style.TONES). The word is always shown too: colour is never the
# only sign.
KIND_STYLE: dict[str, tuple[str, str]] = {
    "created": ("✚", "busy"),
    "pulled": ("⬇", "busy"),
    "pulling": ("⬇", "busy"),
    "started": ("▶", "good"),
    "running": ("▶", "good"),
    "adopted": ("⚑", "busy"),
    "restore": ("↺", "busy"),
    "restored": ("↺", "busy"),
    "reconnect": ("⇄", "waiting"),
    "restarted": ("↻", "waiting"),
    "retry": ("↻", "waiting"),
    "stopped": ("■", "idle"),
    "removed": ("✕", "idle"),
    "deleted": ("✕", "idle"),
    "exited": ("■", "bad"),
    "failed": ("✖", "bad"),
    "error": ("✖", "bad"),
    "conflict": ("⚠", "person"),
}
_DEFAULT_STYLE = ("•", "idle")
_TROUBLE = ("exited", "failed", "error", "conflict")


def kind_style(kind: str) -> tuple[str, str]:
    """(glyph, tone) of a history entry's kind."""
    return KIND_STYLE.get(kind.lower(), _DEFAULT_STYLE)


def entry_time(stamp: float, *, now: float | None = None) -> str:
    """``hh:mm:ss`` today; ``yyyy-mm-dd hh:mm:ss`` on another day."""
    return clock(stamp, now=now)


class _EntryRow(QFrame):
    def __init__(self, entry: HistoryEntry) -> None:
        super().__init__()
        self.entry = entry
        self.setObjectName("timeline-row")
        glyph, tone = kind_style(entry.kind)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(10)
        stamp = entry_time(entry.time)
        self.time_label = QLabel(stamp.replace(" ", "\n"))
        self.time_label.setObjectName("timeline-time")
        self.time_label.setMinimumWidth(84)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.time_label.setContentsMargins(0, 3, 0, 0)
        self.time_label.setToolTip(time.strftime("%Y-%m-%d %H:%M:%S",
                                                 time.localtime(entry.time)))
        self.kind_label = QLabel(f"{glyph}  {entry.kind}")
        self.kind_label.setObjectName("timeline-kind")
        self.kind_label.setFixedWidth(118)
        self.kind_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.kind_label.setProperty("tone", tone)
        self.kind_label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.message_label = QLabel(entry.message)
        self.message_label.setObjectName("timeline-message")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setContentsMargins(0, 3, 0, 0)
        if entry.kind.lower() in _TROUBLE:
            self.message_label.setProperty("tone", tone)
        lay.addWidget(self.time_label, 0, Qt.AlignmentFlag.AlignTop)
        lay.addWidget(self.kind_label, 0, Qt.AlignmentFlag.AlignTop)
        lay.addWidget(self.message_label, 1, Qt.AlignmentFlag.AlignTop)
        self.setAccessibleName(f"{stamp} {entry.kind}: {entry.message}")


class TimelineView(QWidget):
    """``set_entries(orchestrator.history(name))`` once, then ``append(entry)`` as they come."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self._entries: list[HistoryEntry] = []  # newest first
        self._widgets: list[_EntryRow] = []     # the same order
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        self.summary = QLabel("")
        self.summary.setObjectName("timeline-summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.summary)

        self._content = QWidget()
        self._content.setObjectName("timeline-content")
        self._rows = QVBoxLayout(self._content)
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.setSpacing(0)
        self._empty = QLabel("Nothing has happened to this instance yet.")
        self._empty.setObjectName("timeline-empty")
        self._rows.addWidget(self._empty)
        self._rows.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("timeline-scroll")
        self.scroll_area.setAccessibleName("History")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(self._content)
        QScroller.grabGesture(self.scroll_area.viewport(),
                              QScroller.ScrollerGestureType.TouchGesture)
        outer.addWidget(self.scroll_area, 1)
        self._update_summary()

    # -- data ----------------------------------------------------------------------------
    def entries(self) -> list[HistoryEntry]:
        """Newest first, as shown."""
        return list(self._entries)

    def set_entries(self, entries: Iterable[HistoryEntry]) -> None:
        # History comes oldest first; the newest goes on top (ties keep the later one on top).
        ordered = sorted(enumerate(entries), key=lambda p: (p[1].time, p[0]), reverse=True)
        self.setUpdatesEnabled(False)
        try:
            while self._widgets:
                self._take_row(len(self._widgets) - 1)
            self._entries = [e for _i, e in ordered][:MAX_ROWS]
            for i, entry in enumerate(self._entries):
                row = _EntryRow(entry)
                self._widgets.append(row)
                self._rows.insertWidget(i, row)
        finally:
            self.setUpdatesEnabled(True)
        self._update_summary()

    def append(self, entry: HistoryEntry) -> None:
        """A new entry: on top (or where its time puts it, if it is older than the top)."""
        pos = 0
        while pos < len(self._entries) and self._entries[pos].time > entry.time:
            pos += 1
        row = _EntryRow(entry)
        self._entries.insert(pos, entry)
        self._widgets.insert(pos, row)
        self._rows.insertWidget(pos, row)
        while len(self._entries) > MAX_ROWS:
            self._entries.pop()
            self._take_row(len(self._entries))
        self._update_summary()

    def row_texts(self) -> list[str]:
        """What each row says, top to bottom: ``"hh:mm:ss kind: message"``."""
        return [w.accessibleName() for w in self._widgets]

    # -- helpers -------------------------------------------------------------------------
    def _take_row(self, pos: int) -> None:
        widget = self._widgets.pop(pos)
        self._rows.removeWidget(widget)
        widget.hide()
        widget.deleteLater()

    def _update_summary(self) -> None:
        entries = self._entries
        self._empty.setVisible(not entries)
        if not entries:
            self.summary.setVisible(False)
            return
        restarts = [i for i, e in enumerate(entries) if e.kind.lower() == "restarted"]
        troubles = [i for i, e in enumerate(entries) if e.kind.lower() in _TROUBLE]
        trouble = entries[troubles[0]] if troubles else None
        lines = []
        if restarts:
            last = restarts[0]
            n = len(restarts)
            line = (f"Restarted {n} time{'s' if n != 1 else ''}. Last restart at "
                    f"{entry_time(entries[last].time)}")
            # Its cause: the nearest problem before it (entries are newest first).
            cause = next((entries[i] for i in troubles if i > last), None)
            line += (f", after: {cause.message} ({entry_time(cause.time)})"
                     if cause is not None else ".")
            lines.append(line)
            if troubles and troubles[0] < last and trouble is not None:
                lines.append(f"Latest problem at {entry_time(trouble.time)}: "
                             f"{trouble.message}")
        elif trouble is not None:
            lines.append(f"Latest problem at {entry_time(trouble.time)}: {trouble.message}")
        else:
            newest = entries[0]
            lines.append(f"Last: {newest.kind} at {entry_time(newest.time)}")
        self.summary.setText("\n".join(lines))
        # A problem is said in red, whatever its own kind's colour.
        set_style_property(self.summary, "tone", "bad" if trouble is not None else "")
        self.summary.setVisible(True)

"""A container's log, followed live: filter, timestamps, follow, save; the end said plainly.

The stream's reader thread hands each line to the bridge, which brings it home in order with
the core's events; saving is a core call the bridge runs off the GUI thread.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractSlider,
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.inventory.logs import format_line, save_logs
from ui.bridge import CoreBridge
from ui.input_hints import technical
from ui.operations import Operations, error_sentence
from ui.style import STDERR, TOUCH_MIN, set_style_property

MAX_LINES = 10_000
FLUSH_MS = 100  # appends are batched: at most one repaint of the log per 100 ms
_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")

Line = tuple[str, str, str]  # timestamp, text, stream


def short_time(stamp: str, *, today: str | None = None) -> str:
    """The engine's RFC 3339 timestamp as local ``hh:mm:ss.mmm`` (with the date when it is not
    today); anything else unchanged."""
    m = _ISO.match(stamp.strip())
    if m is None:
        return stamp
    date, clock, frac, zone = m.groups()
    micro = (frac or ".0")[1:7].ljust(6, "0")
    tz = "+00:00" if zone in (None, "Z") else zone
    if len(tz) == 5:
        tz = tz[:3] + ":" + tz[3:]
    try:
        when = datetime.fromisoformat(f"{date}T{clock}.{micro}{tz}").astimezone()
    except ValueError:
        return stamp
    day = when.strftime("%Y-%m-%d")
    text = when.strftime("%H:%M:%S.") + f"{when.microsecond // 1000:03d}"
    if day != (today or datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d")):
        text = f"{day} {text}"
    return text


class LogsDialog(QDialog):
    """``LogsDialog(bridge, orchestrator, container_id, name)`` opens the log stream at once
    (``follow=True``, the last 500 lines); closing the dialog closes the stream.

    ``opener`` defaults to ``app.inventory.logs.open_logs``; tests pass a fake.
    """

    saved = Signal(str)  # the sentence shown after a save (or its failure)

    def __init__(self, bridge: CoreBridge, orchestrator: Any, container_id: str, name: str, *,
                 opener: Callable[..., Any] | None = None, tail: int = 500,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logs-dialog")
        self.setWindowTitle(f"Log of {name}")
        self.setModal(False)
        self.bridge = bridge
        self.ops = Operations(bridge)
        self.container_id = container_id
        self.name = name
        self._lines: deque[Line] = deque(maxlen=MAX_LINES)
        self._pending: list[Line] = []
        self._needle = ""
        self._stream: Any = None
        self._closed = False
        self._programmatic_scroll = False
        self._stderr_format = QTextCharFormat()
        self._stderr_format.setForeground(QColor(STDERR))
        self._plain_format = QTextCharFormat()

        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(6)
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.filter = QLineEdit()
        self.filter.setObjectName("logs-filter")
        self.filter.setPlaceholderText("Show only lines containing…")
        self.filter.setClearButtonEnabled(True)
        self.filter.setMinimumHeight(TOUCH_MIN)
        self.filter.setAccessibleName("Filter the log")
        technical(self.filter)
        self.follow = self._toggle("Follow", "logs-follow", True,
                                   "Keep showing the newest lines as they arrive")
        self.timestamps = self._toggle("Times", "logs-timestamps", True,
                                       "Show when the engine received each line")
        self.save_button = QPushButton("Save…")
        self.save_button.setObjectName("logs-save")
        self.save_button.setMinimumHeight(TOUCH_MIN)
        self.save_button.setToolTip("Save every line kept here (with times) to a file")
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("logs-close")
        self.close_button.setMinimumHeight(TOUCH_MIN)
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.follow)
        bar.addWidget(self.timestamps)
        bar.addWidget(self.save_button)
        bar.addWidget(self.close_button)
        outer.addLayout(bar)

        self.view = QPlainTextEdit()
        self.view.setObjectName("logs-view")
        self.view.setAccessibleName(f"Log of {name}")
        self.view.setReadOnly(True)
        self.view.setUndoRedoEnabled(False)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.view.setMaximumBlockCount(MAX_LINES)
        self.view.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.view.setFont(mono)
        outer.addWidget(self.view, 1)

        foot = QHBoxLayout()
        self.title_label = QLabel(f"Log of {name}")
        self.title_label.setObjectName("logs-title")
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        foot.addWidget(self.title_label)
        self.end_label = QLabel("")
        self.end_label.setObjectName("logs-end")
        self.end_label.setWordWrap(True)
        self.end_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.end_label.setVisible(False)
        self.count_label = QLabel("")
        self.count_label.setObjectName("logs-count")
        self.count_label.setProperty("muted", True)
        self.note_label = QLabel("")
        self.note_label.setObjectName("logs-note")
        self.note_label.setWordWrap(True)
        self.note_label.setVisible(False)
        foot.addWidget(self.end_label, 1)
        foot.addWidget(self.note_label, 1)
        foot.addWidget(self.count_label, 0, Qt.AlignmentFlag.AlignRight)
        outer.addLayout(foot)

        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)

        self.filter.textChanged.connect(self._on_filter)
        self.timestamps.toggled.connect(lambda _on: self._rebuild())
        self.follow.toggled.connect(self._on_follow)
        self.save_button.clicked.connect(self._ask_save)
        self.close_button.clicked.connect(self.reject)
        self.view.verticalScrollBar().actionTriggered.connect(self._on_user_scroll)
        self._update_count()

        if opener is None:
            from app.inventory.logs import open_logs
            opener = open_logs
        try:
            # The reader thread's calls come home through the bridge, in order, while this
            # dialog is there to show them.
            self._stream = opener(orchestrator, container_id, follow=True, tail=tail,
                                  on_line=self.ops.homeward(self, self._on_line),
                                  on_end=self.ops.homeward(self, self._on_end))
        except Exception as exc:  # noqa: BLE001 - shown to the person, never swallowed
            self._on_end(error_sentence(exc))

    @staticmethod
    def _toggle(text: str, name: str, on: bool, tip: str) -> QPushButton:
        """A checkable button whose state shows in words and colour: ``✓ Follow``."""
        button = QPushButton()
        button.setObjectName(name)
        button.setCheckable(True)
        button.setMinimumHeight(TOUCH_MIN)
        button.setToolTip(tip)
        button.setMinimumWidth(button.fontMetrics().horizontalAdvance(f"✓ {text}") + 40)

        def show(checked: bool) -> None:
            button.setText(("✓ " if checked else "") + text)
            button.setAccessibleName(f"{text}: {'on' if checked else 'off'}")
        button.toggled.connect(show)
        button.setChecked(on)
        show(on)
        return button

    def show_sized(self) -> None:
        """Maximised on a small panel, a comfortable window on a laptop."""
        screen = self.screen() or QApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else None
        if area is None or area.width() < 1024 or area.height() < 720:
            self.showMaximized()
        else:
            self.resize(min(1100, area.width() - 80), min(720, area.height() - 80))
            self.show()

    # -- the stream's lines, on the GUI thread ---------------------------------------------
    def _on_line(self, stamp: str, text: str, stream: str) -> None:
        if self._closed:
            return  # (read before the stream was closed)
        self._pending.append((stamp, text.rstrip("\r\n"), stream))
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _on_end(self, sentence: str) -> None:
        if self._closed:
            return
        self._flush()
        if sentence:
            self.end_label.setText(sentence)
        else:
            self.end_label.setText("End of the log: the container is not running any more.")
        set_style_property(self.end_label, "tone", "bad" if sentence else "")
        self.end_label.setVisible(True)

    def _matches(self, line: Line) -> bool:
        return not self._needle or self._needle in line[1].lower()

    def _format(self, line: Line) -> str:
        if self.timestamps.isChecked() and line[0]:
            return f"{short_time(line[0])}  {line[1]}"
        return line[1]

    def _flush(self) -> None:
        self._flush_timer.stop()
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        self._lines.extend(batch)
        self._append(line for line in batch if self._matches(line))
        self._update_count()

    def _append(self, lines: Any) -> None:
        doc = self.view.document()
        cursor = QTextCursor(doc)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.beginEditBlock()
        empty = doc.isEmpty()
        for line in lines:
            if not empty:
                cursor.insertBlock()
            empty = False
            fmt = self._stderr_format if line[2] == "stderr" else self._plain_format
            cursor.insertText(self._format(line), fmt)
        cursor.endEditBlock()
        if self.follow.isChecked():
            self._scroll_to_end()

    def _rebuild(self) -> None:
        self.view.clear()
        self._append(line for line in self._lines if self._matches(line))
        self._update_count()

    def _on_filter(self, text: str) -> None:
        needle = text.strip().lower()
        if needle != self._needle:
            self._needle = needle
            self._flush()
            self._rebuild()

    def _update_count(self) -> None:
        total = len(self._lines)
        shown = total if not self._needle else self.shown_count()
        words = f"{total} lines" if shown == total else f"{shown} of {total} lines"
        if total >= MAX_LINES:
            words += f" (the newest {MAX_LINES} are kept)"
        self.count_label.setText(words)

    def shown_count(self) -> int:
        return 0 if self.view.document().isEmpty() else self.view.document().blockCount()

    def shown_lines(self) -> list[str]:
        """The lines on screen, as shown (filtered, with or without times)."""
        text = self.view.toPlainText()
        return text.split("\n") if text else []

    def kept_lines(self) -> list[str]:
        """Every line kept (not filtered), with the engine's timestamps: what Save writes."""
        return [format_line(line) for line in self._lines]

    # -- follow --------------------------------------------------------------------------
    def _scroll_to_end(self) -> None:
        self._programmatic_scroll = True
        try:
            bar = self.view.verticalScrollBar()
            bar.setValue(bar.maximum())
        finally:
            self._programmatic_scroll = False

    def _on_follow(self, on: bool) -> None:
        if on:
            self._scroll_to_end()

    def _on_user_scroll(self, action: int) -> None:
        # Scrolling back to read stops following; scrolling to the very end resumes it.
        if self._programmatic_scroll or \
                action == QAbstractSlider.SliderAction.SliderNoAction.value:
            return
        bar = self.view.verticalScrollBar()
        at_end = bar.sliderPosition() >= bar.maximum()
        if self.follow.isChecked() != at_end:
            self.follow.setChecked(at_end)

    # -- save ----------------------------------------------------------------------------
    def _ask_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the log", f"{self.name}.log",
                                              "Log files (*.log *.txt);;All files (*)")
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> Future[None]:
        """Write every kept line to ``path`` off the GUI thread (through the bridge: never a
        file write here); the result is shown under the log and emitted as :attr:`saved`."""
        self._flush()
        lines = list(self._lines)
        future: Future[None] = self.bridge.call(save_logs, lines, Path(path))
        self.ops.run(future, owner=self,
                     on_success=lambda _r: self._show_saved(
                         f"Saved {len(lines)} lines to {path}.", "good"),
                     on_failure=lambda f: self._show_saved(
                         f"The log was not saved: {f.sentence}", "bad"))
        return future

    def _show_saved(self, sentence: str, tone: str) -> None:
        set_style_property(self.note_label, "tone", tone)
        self.note_label.setText(sentence)
        self.note_label.setVisible(True)
        self.saved.emit(sentence)

    # -- closing -------------------------------------------------------------------------
    def stop_stream(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._flush_timer.stop()
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def done(self, result: int) -> None:
        self.stop_stream()
        super().done(result)

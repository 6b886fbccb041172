"""A pull, layer by layer: each layer's status and bytes, and the whole pull's total.

Built for 20 layers updated 4 times a second: rows are created once per layer, and a row's
widgets are touched only when its own numbers changed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.engine.pull import LayerProgress, PullProgress
from ui.formats import human_size, short_id
from ui.style import set_style_property

_SCALE = 1000
_DONE = ("Already exists", "Pull complete", "Download complete", "Verifying Checksum")


def bytes_of(current: int, total: int) -> str:
    """``12.3 MB of 40.0 MB``."""
    return f"{human_size(current)} of {human_size(total)}"


def _bar(name: str) -> QProgressBar:
    """A bar styled by its name (pull-total, pull-layer-bar) and, for a layer, its ``done``
    property (see moorings.qss)."""
    bar = QProgressBar()
    bar.setObjectName(name)
    bar.setRange(0, _SCALE)
    bar.setValue(0)
    bar.setTextVisible(True)
    return bar


class _LayerRow:
    __slots__ = ("bar", "done", "id_label", "last", "status_label")

    def __init__(self, grid: QGridLayout, row: int, layer_id: str) -> None:
        self.id_label = QLabel(short_id(layer_id))
        self.id_label.setObjectName("pull-layer-id")
        self.id_label.setToolTip(layer_id)
        self.status_label = QLabel("")
        self.status_label.setObjectName("pull-layer-status")
        self.status_label.setMinimumWidth(150)
        self.bar = _bar("pull-layer-bar")
        self.last: tuple[str, int, int] | None = None
        self.done = False
        grid.addWidget(self.id_label, row, 0)
        grid.addWidget(self.status_label, row, 1)
        grid.addWidget(self.bar, row, 2)

    def show(self, layer: LayerProgress) -> bool:
        values = (layer.status, layer.current, layer.total)
        if values == self.last:
            return False
        self.last = values
        if self.status_label.text() != layer.status:
            self.status_label.setText(layer.status)
        if layer.total > 0:
            value = min(_SCALE, _SCALE * layer.current // layer.total)
            text = bytes_of(min(layer.current, layer.total), layer.total)
        elif layer.status in _DONE:
            value, text = _SCALE, "done" if layer.status != "Already exists" else "on the engine"
        else:
            value, text = 0, "waiting"
        self.bar.setValue(value)
        self.bar.setFormat(text)
        done = layer.status in _DONE
        if done != self.done:  # restyling costs: only when the layer finishes
            self.done = done
            set_style_property(self.bar, "done", "true" if done else "false")
        return True

    def remove(self, grid: QGridLayout) -> None:
        for widget in (self.id_label, self.status_label, self.bar):
            grid.removeWidget(widget)
            widget.hide()
            widget.deleteLater()


class PullProgressView(QWidget):
    """``update_progress(progress)`` as ``PullProgressed`` events arrive (on the GUI thread)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pull-layers")
        self.reference = ""
        self._rows: dict[str, _LayerRow] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)
        self.title = QLabel("")
        self.title.setObjectName("pull-title")
        self.title.setWordWrap(True)
        self.total_bar = _bar("pull-total")
        outer.addWidget(self.title)
        outer.addWidget(self.total_bar)

        self._content = QWidget()
        self._content.setObjectName("pull-layers-content")
        self._grid = QGridLayout(self._content)
        self._grid.setContentsMargins(4, 4, 4, 4)
        self._grid.setHorizontalSpacing(10)
        self._grid.setVerticalSpacing(4)
        self._grid.setColumnStretch(2, 1)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setObjectName("pull-layers-scroll")
        scroll.setAccessibleName("Pull progress of each layer")
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # it holds no control
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._content)
        outer.addWidget(scroll, 1)
        self.scroll_area = scroll
        self.clear()

    def clear(self) -> None:
        for row in self._rows.values():
            row.remove(self._grid)
        self._rows.clear()
        self.reference = ""
        self.title.setText("No pull under way.")
        self.total_bar.setValue(0)
        self.total_bar.setFormat("")

    def update_progress(self, progress: PullProgress) -> None:
        if progress.reference != self.reference:
            self.clear()
            self.reference = progress.reference
        self.setUpdatesEnabled(False)
        try:
            for layer in progress.layers:
                row = self._rows.get(layer.id)
                if row is None:
                    row = _LayerRow(self._grid, len(self._rows), layer.id)
                    self._rows[layer.id] = row
                row.show(layer)
            done = sum(1 for layer in progress.layers if layer.status in _DONE)
            count = len(progress.layers)
            self.title.setText(f"Pulling {progress.reference}: {done} of {count} "
                               f"layer{'s' if count != 1 else ''} done")
            if progress.total > 0:
                current = min(progress.current, progress.total)
                pct = 100 * current // progress.total
                self.total_bar.setValue(_SCALE * current // progress.total)
                self.total_bar.setFormat(f"{bytes_of(current, progress.total)}  ({pct}%)")
            else:
                self.total_bar.setValue(0)
                self.total_bar.setFormat("waiting for the registry to say the sizes…")
        finally:
            self.setUpdatesEnabled(True)

    def layer_ids(self) -> list[str]:
        return list(self._rows)

    def layer_text(self, layer_id: str) -> tuple[str, str]:
        """(status, bar text) of one layer's row."""
        row = self._rows[layer_id]
        return row.status_label.text(), row.bar.format()

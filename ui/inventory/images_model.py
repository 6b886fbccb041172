"""The engine's images, one row per repository:tag (an untagged image is one row of its own)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from app.inventory.rows import ImageRow
from ui.formats import DASH, clock, human_size, short_clock, short_id
from ui.rows_model import RowsTableModel
from ui.style import IDLE

ModelIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()

IMAGE_ROW_ROLE = Qt.ItemDataRole.UserRole + 1
IMAGE_SORT_ROLE = Qt.ItemDataRole.UserRole + 3

REPOSITORY, TAG, ID, SIZE, CREATED, USED_BY = range(6)
IMAGE_COLUMNS = ("Repository", "Tag", "Id", "Size", "Created", "Used by")
_FIELDS = ("repository", "tag", "id", "size", "created", "used_by")
_FIELD_COLUMN = {"repository": REPOSITORY, "tag": TAG, "id": ID, "size": SIZE,
                 "created": CREATED, "used_by": USED_BY}
NONE_TAG = "<none>"
_MUTED_BRUSH = QBrush(QColor(IDLE))  # an untagged name, an image no container uses


def image_key(row: ImageRow) -> tuple[str, str, str]:
    return (row.id, row.repository, row.tag)


def image_reference(row: ImageRow) -> str:
    """What to remove: ``repo:tag`` removes only that tag; an untagged image goes by id."""
    return row.ref


def image_title(row: ImageRow) -> str:
    ref = image_reference(row)
    return short_id(ref) if ref == row.id else ref


class ImagesModel(RowsTableModel):
    """:meth:`set_images` (the whole list, as ``ImagesChanged`` brings it) resets the model the
    first time only; afterwards it removes, inserts and changes rows one by one."""

    columns = IMAGE_COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ImageRow] = []

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == IMAGE_ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == IMAGE_SORT_ROLE:
            if col == SIZE:
                return int(row.size)
            if col == CREATED:
                return float(row.created or 0.0)
            if col == USED_BY:
                return len(row.used_by)
            return self._display(row, col).lower()
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == ID:
                return row.id
            if col == CREATED:
                return clock(row.created)
            if col == USED_BY:
                return ("Used by " + ", ".join(row.used_by)) if row.used_by \
                    else "No container uses this image"
            return self._display(row, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == USED_BY and not row.used_by:
                return _MUTED_BRUSH
            if col in (REPOSITORY, TAG) and self._display(row, col) == NONE_TAG:
                return _MUTED_BRUSH
        if role == Qt.ItemDataRole.TextAlignmentRole and col == SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(row: ImageRow, col: int) -> str:
        if col == REPOSITORY:
            return row.repository or NONE_TAG
        if col == TAG:
            return row.tag or NONE_TAG
        if col == ID:
            return short_id(row.id)
        if col == SIZE:
            return human_size(row.size)
        if col == CREATED:
            return short_clock(row.created)
        if col == USED_BY:
            return ", ".join(row.used_by) if row.used_by else DASH
        return ""

    # -- access / updates ------------------------------------------------------------------
    def row_at(self, row: int) -> ImageRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def images(self) -> list[ImageRow]:
        return list(self._rows)

    def set_images(self, rows: Iterable[ImageRow]) -> None:
        rows = list(rows)
        if not self._loaded:
            self.beginResetModel()
            self._rows = rows
            self._loaded = True
            self.endResetModel()
            return
        wanted = {image_key(r): r for r in rows}
        # Removes, from the bottom up so the indexes stay right.
        for i in range(len(self._rows) - 1, -1, -1):
            if image_key(self._rows[i]) not in wanted:
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self.endRemoveRows()
        held = {image_key(r): i for i, r in enumerate(self._rows)}
        for key, new in wanted.items():
            at = held.get(key)
            if at is None:
                pos = len(self._rows)
                self.beginInsertRows(QModelIndex(), pos, pos)
                self._rows.append(new)
                self.endInsertRows()
                held[key] = pos
                continue
            old = self._rows[at]
            if old == new:
                continue
            self._rows[at] = new
            for col in sorted(_FIELD_COLUMN[f] for f in _FIELDS
                              if getattr(old, f) != getattr(new, f)):
                cell = self.index(at, col)
                self.dataChanged.emit(cell, cell)

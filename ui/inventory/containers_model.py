"""Every container on the engine, one row each, updated cell by cell as the inventory reports."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont, QStandardItem, QStandardItemModel

from app.inventory.rows import ContainerRow, PortInfo
from ui.formats import DASH, clock, short_clock, short_id, state_tone
from ui.style import IDLE, TONES

ModelIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()

ID_ROLE = Qt.ItemDataRole.UserRole + 2    # the container id (Name column)
SORT_ROLE = Qt.ItemDataRole.UserRole + 3  # a value that sorts right (numbers for times)

NAME, STATE, IMAGE, PORTS, MANAGED, CREATED, STARTED = range(7)
COLUMNS = ("Name", "State", "Image", "Ports", "Managed by", "Created", "Started")

# Which cells show which of the row's fields: a change repaints only these cells.
FIELD_COLUMNS: dict[str, tuple[int, ...]] = {
    "name": (NAME,),
    "state": (STATE,),
    "exit_code": (STATE,),
    "health": (STATE,),
    "status_text": (STATE,),  # the State cell's tooltip
    "image": (IMAGE,),
    "tag": (IMAGE,),
    "ports": (PORTS,),
    "instance": (MANAGED,),
    "managed": (MANAGED,),
    "created": (CREATED,),
    "started": (STARTED,),
}
_ROW_FIELDS = tuple(FIELD_COLUMNS)

# Running first, then what needs attention, then the idle ones.
_STATE_ORDER = {"running": 0, "restarting": 1, "dead": 2, "exited": 3, "paused": 4,
                "created": 5, "removing": 6}


def image_text(row: ContainerRow) -> str:
    image = row.image
    if image.startswith("sha256:"):
        return short_id(image)
    return f"{image}:{row.tag}" if row.tag else image


def port_text(port: PortInfo) -> str:
    inner = f"{port.container_port}/{port.protocol}"
    if port.host_port is None:
        return inner
    host = port.host_ip
    if host in (None, "", "0.0.0.0", "::"):
        return f"{port.host_port}→{inner}"
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port.host_port}→{inner}"


def ports_text(ports: Iterable[PortInfo]) -> str:
    """``8080→80/tcp, 127.0.0.1:9000→9000/udp``; the IPv4 and IPv6 twins the engine lists
    for one published port are shown once."""
    seen: list[str] = []
    for port in sorted(ports, key=lambda p: (p.container_port, p.protocol, p.host_port or 0)):
        text = port_text(port)
        if text not in seen:
            seen.append(text)
    return ", ".join(seen)


def managed_text(row: ContainerRow) -> str:
    if row.instance:
        return row.instance
    return "Moorings" if row.managed else DASH


@functools.cache
def _state_brushes(colour: str, *, tinted: bool) -> tuple[QBrush, QBrush]:
    """The State cell's text and background brushes for a colour (a handful, made once)."""
    tint = QColor(colour)
    tint.setAlpha(34 if tinted else 0)
    return QBrush(QColor(colour)), QBrush(tint)


class ContainersModel(QStandardItemModel):
    """Rows keep the order they arrived in; a :class:`ContainersProxy` sorts and filters.

    The cells live in Qt's own item model, not behind a Python ``data()``: painting a table
    asks each visible cell for seven roles, and through Python that made every repaint cost
    ten times more while hundreds of containers changed at once.

    :meth:`load` resets the model the first time only; afterwards every change is an insert,
    a remove or a ``dataChanged`` limited to the cells of the fields that changed.
    """

    columns = COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self._rows: dict[str, ContainerRow] = {}
        self._items: dict[str, QStandardItem] = {}  # each row's Name cell
        self._loaded = False
        self._bold = QFont()
        self._bold.setBold(True)
        self._stale = False

    def set_stale(self, stale: bool) -> None:
        """Grey the State cells while the rows are what the engine last said (the table's
        style greys the other cells)."""
        if stale == self._stale:
            return
        self._stale = stale
        for r in range(self.rowCount()):
            row = self.row_at(r)
            if row is not None:
                self.setItemData(self.index(r, STATE), self._roles(row, STATE))

    def _roles(self, row: ContainerRow, col: int) -> dict[int, object]:
        """Everything a cell shows, for ``setItemData`` (which signals only what differs)."""
        shown = self._display(row, col)
        roles: dict[int, object] = {
            Qt.ItemDataRole.DisplayRole: shown,
            SORT_ROLE: self._sort_key(row, col),
            Qt.ItemDataRole.ToolTipRole: self._tooltip(row, col, shown),
            Qt.ItemDataRole.AccessibleTextRole: f"{COLUMNS[col]}: {shown}",
        }
        if col == STATE:
            # A tinted cell in the state's colour, drawn by Qt itself: no Python runs while
            # the table paints, so a busy worker thread holding the GIL cannot stall it.
            text, tint = _state_brushes(
                IDLE if self._stale else TONES[state_tone(row.state, row.exit_code, row.health)],
                tinted=not self._stale)
            roles[Qt.ItemDataRole.ForegroundRole] = text
            roles[Qt.ItemDataRole.BackgroundRole] = tint
        return roles

    def _new_items(self, row: ContainerRow) -> list[QStandardItem]:
        items = []
        for col in range(len(COLUMNS)):
            item = QStandardItem()
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            for role, value in self._roles(row, col).items():
                item.setData(value, role)
            if col in (NAME, STATE):
                item.setData(self._bold, Qt.ItemDataRole.FontRole)
            items.append(item)
        items[NAME].setData(row.id, ID_ROLE)
        return items

    @staticmethod
    def _tooltip(row: ContainerRow, col: int, shown: str) -> str:
        if col == STATE:
            return row.status_text or row.state_label()
        if col == NAME:
            return f"{row.name} ({short_id(row.id)})"
        if col == CREATED:
            return clock(row.created)
        if col == STARTED:
            return clock(row.started) if row.state == "running" else DASH
        return shown

    @staticmethod
    def _display(row: ContainerRow, col: int) -> str:
        if col == NAME:
            return row.name
        if col == STATE:
            return row.state_label()
        if col == IMAGE:
            return image_text(row)
        if col == PORTS:
            return ports_text(row.ports) or DASH
        if col == MANAGED:
            return managed_text(row)
        if col == CREATED:
            return short_clock(row.created)
        if col == STARTED:
            return short_clock(row.started) if row.state == "running" else DASH
        return ""

    @staticmethod
    def _sort_key(row: ContainerRow, col: int) -> object:
        if col == NAME:
            return row.name.lower()
        if col == STATE:
            return _STATE_ORDER.get(row.state, 9) * 1000 + (row.exit_code or 0) % 1000
        if col == IMAGE:
            return image_text(row).lower()
        if col == PORTS:
            return min((p.host_port or p.container_port for p in row.ports), default=1 << 20)
        if col == MANAGED:
            return (row.instance or ("~" if row.managed else "~~")).lower()
        if col == CREATED:
            return float(row.created or 0.0)
        if col == STARTED:
            return float(row.started or 0.0) if row.state == "running" else 0.0
        return None

    # -- access ------------------------------------------------------------------------
    def row_at(self, row: int) -> ContainerRow | None:
        item = self.item(row, NAME) if 0 <= row < self.rowCount() else None
        return None if item is None else self._rows.get(str(item.data(ID_ROLE)))

    def row_for(self, container_id: str) -> ContainerRow | None:
        return self._rows.get(container_id)

    def row_of(self, container_id: str) -> int:
        item = self._items.get(container_id)
        return -1 if item is None else item.row()

    def ids(self) -> list[str]:
        return [str(self.item(r, NAME).data(ID_ROLE)) for r in range(self.rowCount())]

    @property
    def loaded(self) -> bool:
        return self._loaded

    # -- updates -----------------------------------------------------------------------
    def load(self, rows: Iterable[ContainerRow]) -> None:
        """The whole inventory: a reset the first time, inserts/changes/removes after."""
        rows = list(rows)
        if not self._loaded:
            self.beginResetModel()
            # One reset, not an insert signal per row.
            blocked = self.blockSignals(True)
            try:
                self.setRowCount(0)
                for row in rows:
                    self._append(row)
            finally:
                self.blockSignals(blocked)
            self._loaded = True
            self.endResetModel()
            return
        wanted = {r.id for r in rows}
        for cid in [c for c in self._rows if c not in wanted]:
            self.remove_row(cid)
        for row in rows:
            self.change_row(row)

    def _append(self, row: ContainerRow) -> None:
        items = self._new_items(row)
        self._rows[row.id] = row
        self._items[row.id] = items[NAME]
        self.appendRow(items)

    def add_row(self, row: ContainerRow) -> None:
        if row.id in self._rows:
            self.change_row(row)
            return
        self._append(row)

    def change_row(self, row: ContainerRow, fields: Iterable[str] | None = None) -> None:
        """Replace the row; ``dataChanged`` only for the cells that show ``fields`` (when not
        given, or empty, the fields that differ from the row held)."""
        old = self._rows.get(row.id)
        if old is None:
            self.add_row(row)
            return
        self._rows[row.id] = row
        names = set(fields or ())
        if not names:
            names = {f for f in _ROW_FIELDS if getattr(old, f) != getattr(row, f)}
        columns = sorted({c for f in names for c in FIELD_COLUMNS.get(f, ())})
        i = self._items[row.id].row()
        for col in columns:
            self.setItemData(self.index(i, col), self._roles(row, col))

    def remove_row(self, container_id: str) -> None:
        item = self._items.pop(container_id, None)
        if item is None:
            return
        del self._rows[container_id]
        self.removeRow(item.row())


class ContainersProxy(QSortFilterProxyModel):
    """Sorts by :data:`SORT_ROLE` (times as numbers) and keeps the rows whose name, image or
    instance contains the filter text, ignoring case."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_filter_text(self, text: str) -> None:
        needle = text.strip().lower()
        if needle == self._needle:
            return
        if hasattr(self, "endFilterChange"):  # Qt 6.10+
            self.beginFilterChange()
            self._needle = needle
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._needle = needle
            self.invalidateFilter()

    def filter_text(self) -> str:
        return self._needle

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        if not self._needle:
            return True
        model = self.sourceModel()
        row = model.row_at(source_row) if isinstance(model, ContainersModel) else None
        if row is None:
            return True
        haystack = (row.name, image_text(row), row.instance or "")
        return any(self._needle in h.lower() for h in haystack)

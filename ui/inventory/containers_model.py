"""Every container on the engine, one row each, updated cell by cell as the inventory reports."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

from app.inventory.rows import ContainerRow, PortInfo
from ui.inventory import DASH, clock, short_clock, short_id, state_colour
from ui.inventory.table_base import RowsTableModel

ModelIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()

ROW_ROLE = Qt.ItemDataRole.UserRole + 1   # the ContainerRow
ID_ROLE = Qt.ItemDataRole.UserRole + 2    # the container id
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


class ContainersModel(RowsTableModel):
    """Rows keep the order they arrived in; a :class:`ContainersProxy` sorts and filters.

    :meth:`load` resets the model the first time only; afterwards every change is an insert,
    a remove or a ``dataChanged`` limited to the cells of the fields that changed.
    """

    columns = COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ContainerRow] = []
        self._index: dict[str, int] = {}
        self._bold = QFont()
        self._bold.setBold(True)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == ROW_ROLE:
            return row
        if role == ID_ROLE:
            return row.id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == SORT_ROLE:
            return self._sort_key(row, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == STATE:
                return row.status_text or row.state_label()
            if col == NAME:
                return f"{row.name} ({short_id(row.id)})"
            if col == CREATED:
                return clock(row.created)
            if col == STARTED:
                return clock(row.started) if row.state == "running" else DASH
            return self._display(row, col)
        if role == Qt.ItemDataRole.ForegroundRole and col == STATE:
            return QBrush(QColor(state_colour(row.state, row.exit_code, row.health)))
        if role == Qt.ItemDataRole.FontRole and col in (NAME, STATE):
            return self._bold
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{COLUMNS[col]}: {self._display(row, col)}"
        return None

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
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_for(self, container_id: str) -> ContainerRow | None:
        i = self._index.get(container_id)
        return None if i is None else self._rows[i]

    def row_of(self, container_id: str) -> int:
        return self._index.get(container_id, -1)

    def ids(self) -> list[str]:
        return [r.id for r in self._rows]

    @property
    def loaded(self) -> bool:
        return self._loaded

    # -- updates -----------------------------------------------------------------------
    def load(self, rows: Iterable[ContainerRow]) -> None:
        """The whole inventory: a reset the first time, inserts/changes/removes after."""
        rows = list(rows)
        if not self._loaded:
            self.beginResetModel()
            self._rows = rows
            self._reindex()
            self._loaded = True
            self.endResetModel()
            return
        wanted = {r.id for r in rows}
        for cid in [c for c in self.ids() if c not in wanted]:
            self.remove_row(cid)
        for row in rows:
            self.change_row(row)

    def add_row(self, row: ContainerRow) -> None:
        if row.id in self._index:
            self.change_row(row)
            return
        pos = len(self._rows)
        self.beginInsertRows(QModelIndex(), pos, pos)
        self._rows.append(row)
        self._index[row.id] = pos
        self.endInsertRows()

    def change_row(self, row: ContainerRow, fields: Iterable[str] | None = None) -> None:
        """Replace the row; ``dataChanged`` only for the cells that show ``fields`` (when not
        given, or empty, the fields that differ from the row held)."""
        i = self._index.get(row.id)
        if i is None:
            self.add_row(row)
            return
        old = self._rows[i]
        self._rows[i] = row
        names = set(fields or ())
        if not names:
            names = {f for f in _ROW_FIELDS if getattr(old, f) != getattr(row, f)}
        columns = sorted({c for f in names for c in FIELD_COLUMNS.get(f, ())})
        # One signal per run of adjacent columns: never the whole row for one field.
        start = prev = -2
        for col in [*columns, -10]:
            if col != prev + 1:
                if start >= 0:
                    self.dataChanged.emit(self.index(i, start), self.index(i, prev))
                start = col
            prev = col

    def remove_row(self, container_id: str) -> None:
        i = self._index.get(container_id)
        if i is None:
            return
        self.beginRemoveRows(QModelIndex(), i, i)
        del self._rows[i]
        self._reindex()
        self.endRemoveRows()

    def _reindex(self) -> None:
        self._index = {r.id: i for i, r in enumerate(self._rows)}


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
        row = model.index(source_row, 0, source_parent).data(ROW_ROLE)
        if not isinstance(row, ContainerRow):
            return True
        haystack = (row.name, image_text(row), row.instance or "")
        return any(self._needle in h.lower() for h in haystack)

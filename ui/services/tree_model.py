"""The services tree's model: the orchestration service and every instance, with live badges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from ui.rows_model import ModelIndex, RowsTableModel
from ui.services.badges import badge_colour, badge_text
from ui.style import BAD, BUSY, GOOD, IDLE

if TYPE_CHECKING:
    from app.orchestrator.events import ConnectionChanged
    from app.orchestrator.state import InstanceStatus
    from app.remote.events import CloudLinkChanged


KIND_ROLE = Qt.ItemDataRole.UserRole + 1
NAME_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3

# Plain ints: a view asks data() for about ten roles per cell at every repaint, and each
# lookup through Qt's Python enums costs more than the answer.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)
_OWN_ROLES = frozenset({int(KIND_ROLE), int(NAME_ROLE), int(STATUS_ROLE)})
_ANSWERED = frozenset({_DISPLAY, _TOOLTIP, _FOREGROUND, _FONT, _ACCESSIBLE}) | _OWN_ROLES


def _bold() -> QFont:
    font = QFont()
    font.setBold(True)
    return font

SERVICE_KIND = "service"
CLOUD_KIND = "cloud"
INSTANCE_KIND = "instance"

# The cloud link's state (app.remote.events.LinkState's value) as the tree's badge.
_CLOUD_BADGES = {"connected": ("connected", GOOD), "connecting": ("connecting", BUSY),
                 "waiting": ("not connected", BAD), "disabled": ("off", IDLE)}


@dataclass
class _Row:
    kind: str
    name: str
    label: str
    status: InstanceStatus | None = None


class ServicesModel(RowsTableModel):
    """Row 0 is the orchestration service; then one row per instance, sorted by name.

    Changes are incremental: an instance added or removed inserts or removes its row, and a
    status change emits dataChanged for that row's badge only.
    """

    columns = ("Service", "State")

    def __init__(self, service_label: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = [_Row(SERVICE_KIND, "", service_label)]
        self._connection: ConnectionChanged | None = None
        self._cloud: CloudLinkChanged | None = None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        role = int(role)
        if role not in _ANSWERED or not index.isValid():
            return None
        r = index.row()
        if not 0 <= r < len(self._rows):
            return None
        row = self._rows[r]
        if role in _OWN_ROLES:
            return row.kind if role == KIND_ROLE else row.name if role == NAME_ROLE \
                else row.status
        col = index.column()
        if row.kind == SERVICE_KIND:
            return self._service_data(row, col, role)
        if row.kind == CLOUD_KIND:
            return self._cloud_data(row, col, role)
        if role == _DISPLAY:
            return row.label if col == 0 else badge_text(row.status)
        if role == _TOOLTIP:
            return row.status.summary() if row.status else "disabled"
        if role == _FOREGROUND and col == 1:
            return QBrush(badge_colour(row.status))
        if role == _FONT and col == 1:
            return _bold()
        if role == _ACCESSIBLE:
            return f"{row.label}: {badge_text(row.status)}"
        return None

    def _service_data(self, row: _Row, col: int, role: int) -> object:
        conn = self._connection
        live = conn is not None and conn.connected
        if role == _DISPLAY:
            return row.label if col == 0 else ("live" if live else "not connected")
        if role == _TOOLTIP:
            if conn is None:
                return "connecting to the engine"
            return f"{conn.host}: " + ("connected" if live else conn.reason)
        if role == _FOREGROUND and col == 1:
            return QBrush(QColor(GOOD if live else BAD))
        if role == _FONT:
            return _bold()
        return None

    def _cloud_data(self, row: _Row, col: int, role: int) -> object:
        link = self._cloud
        word, colour = _CLOUD_BADGES.get(link.state.value if link else "disabled",
                                         ("off", IDLE))
        if role == _DISPLAY:
            return row.label if col == 0 else word
        if role == _TOOLTIP:
            return link.sentence() if link else "the cloud connection is off"
        if role == _FOREGROUND and col == 1:
            return QBrush(QColor(colour))
        if role == _FONT:
            return _bold()
        if role == _ACCESSIBLE:
            return f"{row.label}: {word}"
        return None

    # -- updates -------------------------------------------------------------------------
    def add_cloud(self, label: str) -> None:
        """The cloud connection's row, under the orchestration service's."""
        if any(r.kind == CLOUD_KIND for r in self._rows):
            return
        self.beginInsertRows(QModelIndex(), 1, 1)
        self._rows.insert(1, _Row(CLOUD_KIND, "", label))
        self.endInsertRows()

    def cloud_row(self) -> int:
        return next((i for i, r in enumerate(self._rows) if r.kind == CLOUD_KIND), -1)

    def update_cloud(self, link: CloudLinkChanged) -> None:
        self._cloud = link
        row = self.cloud_row()
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, 1))

    def row_of(self, name: str) -> int:
        for i, row in enumerate(self._rows):
            if row.kind == INSTANCE_KIND and row.name == name:
                return i
        return -1

    def instance_names(self) -> list[str]:
        return [r.name for r in self._rows if r.kind == INSTANCE_KIND]

    def set_instances(self, names: list[str]) -> None:
        """Make the rows match ``names`` with inserts and removes (no reset)."""
        for name in [n for n in self.instance_names() if n not in names]:
            self.remove_instance(name)
        for name in names:
            self.add_instance(name)

    def add_instance(self, name: str, status: InstanceStatus | None = None) -> int:
        existing = self.row_of(name)
        if existing >= 0:
            if status is not None:
                self.update_status(status)
            return existing
        pos = sum(1 for r in self._rows if r.kind != INSTANCE_KIND)
        while pos < len(self._rows) and self._rows[pos].name < name:
            pos += 1
        self.beginInsertRows(QModelIndex(), pos, pos)
        self._rows.insert(pos, _Row(INSTANCE_KIND, name, name, status))
        self.endInsertRows()
        return pos

    def remove_instance(self, name: str) -> None:
        row = self.row_of(name)
        if row < 0:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self.endRemoveRows()

    def update_status(self, status: InstanceStatus) -> None:
        row = self.row_of(status.name)
        if row < 0:
            self.add_instance(status.name, status)
            return
        self._rows[row].status = status
        left = self.index(row, 1)
        self.dataChanged.emit(left, left)

    def status(self, name: str) -> InstanceStatus | None:
        row = self.row_of(name)
        return self._rows[row].status if row >= 0 else None

    def update_connection(self, conn: ConnectionChanged) -> None:
        self._connection = conn
        self.dataChanged.emit(self.index(0, 0), self.index(0, 1))

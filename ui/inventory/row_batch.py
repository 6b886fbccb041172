"""The Containers table's pace: row changes gathered into a few applies a second.

The bridge already brings the inventory's events home in order within a time budget; this is
what the table does with them. The first change applies at once; the rest of a burst (300
containers starting) waits up to :data:`APPLY_INTERVAL_S` and then applies together, each
container once with every field that changed, so the table repaints a few times a second
instead of after every event.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from app.inventory.rows import ContainerRow

APPLY_INTERVAL_S = 0.1

# id -> (the row, None once removed; the fields that changed, None for the whole row: an add).
Waiting = dict[str, tuple[ContainerRow | None, frozenset[str] | None]]


class RowBatch(QObject):
    """Gathers adds, changes and removes by container id; ``apply(waiting)`` receives them in
    the order their last change arrived."""

    def __init__(self, apply: Callable[[Waiting], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._apply = apply
        self._waiting: Waiting = {}
        self._applied_at = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._apply_waiting)

    def added(self, row: ContainerRow) -> None:
        self._wait(row.id, row, None)

    def changed(self, row: ContainerRow, fields: frozenset[str]) -> None:
        old = self._waiting.get(row.id)
        if old is not None and old[0] is not None:
            # Still waiting: one change with every field (an add stays a whole-row change).
            self._wait(row.id, row, None if old[1] is None else old[1] | fields)
        else:
            self._wait(row.id, row, fields)

    def removed(self, container_id: str) -> None:
        self._wait(container_id, None, frozenset())

    def flush(self) -> None:
        """Apply what waits now (tests, and before a look at rows that must be current)."""
        self._timer.stop()
        if self._waiting:
            self._apply_waiting()

    def _wait(self, cid: str, row: ContainerRow | None, fields: frozenset[str] | None) -> None:
        self._waiting.pop(cid, None)  # re-inserted last: changes apply in arrival order
        self._waiting[cid] = (row, fields)
        if self._timer.isActive():
            return
        quiet = time.monotonic() - self._applied_at
        if quiet >= APPLY_INTERVAL_S:
            self._apply_waiting()
        else:
            self._timer.start(max(1, round((APPLY_INTERVAL_S - quiet) * 1000)))

    def _apply_waiting(self) -> None:
        self._applied_at = time.monotonic()
        waiting, self._waiting = self._waiting, {}
        self._apply(waiting)

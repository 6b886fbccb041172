"""The one bridge from the core to Qt: events and future results, re-emitted on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.orchestrator.events import (
    ConnectionChanged,
    ContainerEvent,
    Event,
    InstanceRemoved,
    PullProgressed,
    StateChanged,
)
from app.orchestrator.service import Orchestrator, emit_all_statuses


class CoreBridge(QObject):
    """Lives on the GUI thread. The core calls :meth:`_on_core_event` on any thread; Qt queues
    each signal to the GUI thread, so every slot connected here runs there."""

    state_changed = Signal(object)        # InstanceStatus
    pull_progressed = Signal(str, object)  # name, PullProgress
    container_event = Signal(object)      # ContainerEvent
    connection_changed = Signal(object)   # ConnectionChanged
    instance_removed = Signal(str)
    _deliver = Signal(object, object)     # callback, future: settled futures come home here

    def __init__(self, orchestrator: Orchestrator, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._orch = orchestrator
        self._deliver.connect(self._on_deliver, Qt.ConnectionType.QueuedConnection)
        orchestrator.add_listener(self._on_core_event)

    @property
    def orchestrator(self) -> Orchestrator:
        return self._orch

    def replay(self) -> None:
        """Send the current state again, for views created after the core started."""
        emit_all_statuses(self._orch, self._on_core_event)

    def detach(self) -> None:
        self._orch.remove_listener(self._on_core_event)

    def _on_core_event(self, event: Event) -> None:
        # Any thread. Emitting a signal of an object that lives on the GUI thread from
        # another thread queues the call to the receivers' thread.
        if isinstance(event, StateChanged):
            self.state_changed.emit(event.status)
        elif isinstance(event, PullProgressed):
            self.pull_progressed.emit(event.name, event.progress)
        elif isinstance(event, ContainerEvent):
            self.container_event.emit(event)
        elif isinstance(event, ConnectionChanged):
            self.connection_changed.emit(event)
        elif isinstance(event, InstanceRemoved):
            self.instance_removed.emit(event.name)

    def when_done(self, future: Future[Any], callback: Callable[[Future[Any]], None]) -> None:
        """Call ``callback(future)`` on the GUI thread once ``future`` is settled."""
        future.add_done_callback(lambda f: self._deliver.emit(callback, f))

    @Slot(object, object)
    def _on_deliver(self, callback: Callable[[Future[Any]], None], future: Future[Any]) -> None:
        callback(future)

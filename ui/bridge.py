"""The one bridge from the core to Qt: core events, future results and calls, on the GUI thread.

The orchestrator and the inventory call their listeners on their own threads. The bridge only
queues each event home (a queued signal of an object that lives on the GUI thread) and
re-emits it there, so every receiver, a bound slot or a plain lambda, runs on the GUI thread.
What no widget shows never makes the trip. Widgets wait on a Future through
``ui.operations``, which comes home through :meth:`CoreBridge.when_done`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from app.inventory.feed import FeedState, ImagesChanged, RowAdded, RowChanged, RowRemoved
from app.orchestrator.events import (
    ConnectionChanged,
    ContainerEvent,
    EnforcementChanged,
    InstanceAdded,
    InstanceChanged,
    InstanceRemoved,
    PullProgressed,
    StateChanged,
)
from app.remote.events import CloudLinkChanged

if TYPE_CHECKING:
    from app.config.model import Scalar
    from app.inventory.rows import ContainerRow, ImageRow
    from app.metatype import ComponentDescriptor
    from app.orchestrator.service import Orchestrator


# How long one turn of the event loop may spend re-emitting core events.
DRAIN_BUDGET_S = 0.008

# Core events no widget shows: not worth a trip to the GUI thread. The engine's own container
# events reach the Containers table as the inventory's rows, and every step of a pull comes
# with the instance's StateChanged, which carries the progress (one path to the page).
NOT_SHOWN = (ContainerEvent, PullProgressed)


class _Call:
    """A callable posted with :meth:`CoreBridge.post`, called in turn with the events."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn = fn


class InventoryLike(Protocol):
    """What the GUI uses of ``app.inventory.feed.Inventory``."""

    def add_listener(self, fn: Callable[[Any], None]) -> None: ...
    def remove_listener(self, fn: Callable[[Any], None]) -> None: ...
    def rows(self) -> Iterable[ContainerRow]: ...
    def images(self) -> Iterable[ImageRow]: ...
    def state(self) -> FeedState: ...
    def refresh(self) -> Future[Any]: ...
    def start_container(self, id: str) -> Future[Any]: ...
    def stop_container(self, id: str) -> Future[Any]: ...
    def restart_container(self, id: str) -> Future[Any]: ...
    def remove_container(self, id: str) -> Future[Any]: ...
    def remove_image(self, id_or_ref: str) -> Future[Any]: ...


class RemoteLike(Protocol):
    """What the GUI uses of ``app.remote.manager.RemoteManager`` (the cloud link)."""

    @property
    def descriptor(self) -> ComponentDescriptor: ...
    def values(self) -> dict[str, Scalar]: ...
    def security_warning(self, values: Mapping[str, Scalar]) -> str | None: ...
    def update_settings(self, values: Mapping[str, object]) -> Future[dict[str, Scalar]]: ...
    def link(self) -> CloudLinkChanged: ...
    def add_listener(self, listener: Callable[[CloudLinkChanged], None]) -> None: ...
    def remove_listener(self, listener: Callable[[CloudLinkChanged], None]) -> None: ...


class CoreBridge(QObject):
    """Lives on the GUI thread; the only way core events reach widgets."""

    # The orchestrator.
    state_changed = Signal(object)         # InstanceStatus (while pulling, with its progress)
    connection_changed = Signal(object)    # ConnectionChanged
    instance_added = Signal(str)
    instance_changed = Signal(str)         # its stored configuration changed elsewhere
    instance_removed = Signal(str)
    enforcement_changed = Signal(object)   # EnforcementStatus
    # The inventory.
    row_added = Signal(object)             # ContainerRow
    row_changed = Signal(object, object)   # ContainerRow, frozenset[str] of field names
    row_removed = Signal(str)              # container id
    images_changed = Signal(object)        # tuple[ImageRow, ...]
    feed_state = Signal(object)            # FeedState
    # The cloud link (remote management over MQTT).
    cloud_link_changed = Signal(object)    # CloudLinkChanged

    _incoming = Signal()                   # "events are waiting": queued to the GUI thread
    _deliver = Signal(object, object)      # callback, future: settled futures come home here

    def __init__(self, orchestrator: Orchestrator | None = None,
                 inventory: InventoryLike | None = None,
                 remote: RemoteLike | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._orch = orchestrator
        self._inventory: InventoryLike | None = None
        self._remote = remote
        self._pending: deque[object] = deque()
        self._pending_lock = threading.Lock()
        self._drain_scheduled = False
        self._worker: ThreadPoolExecutor | None = None
        self._incoming.connect(self._drain, Qt.ConnectionType.QueuedConnection)
        self._deliver.connect(self._on_deliver, Qt.ConnectionType.QueuedConnection)
        if orchestrator is not None:
            orchestrator.add_listener(self._on_core_event)
        if inventory is not None:
            self.attach_inventory(inventory)
        if remote is not None:
            remote.add_listener(self._on_core_event)

    # What the bridge is connected to: for the window that builds the pages (which get what
    # they call explicitly), not a way for a page to find the core.
    @property
    def orchestrator(self) -> Orchestrator:
        assert self._orch is not None, "this bridge has no orchestrator"
        return self._orch

    @property
    def inventory(self) -> InventoryLike | None:
        """The live inventory, or None when the window runs without one."""
        return self._inventory

    def attach_inventory(self, inventory: InventoryLike) -> None:
        self._inventory = inventory
        inventory.add_listener(self._on_core_event)

    @property
    def remote(self) -> RemoteLike | None:
        """The cloud link, when this core has one."""
        return self._remote

    def replay(self) -> None:
        """Send the current state again, for views created after the core started."""
        from app.orchestrator.events import emit_all_statuses

        if self._orch is not None:
            emit_all_statuses(self._orch, self._on_core_event)

    def detach(self) -> None:
        if self._orch is not None:
            self._orch.remove_listener(self._on_core_event)
        if self._inventory is not None:
            self._inventory.remove_listener(self._on_core_event)
        if self._remote is not None:
            self._remote.remove_listener(self._on_core_event)
        if self._worker is not None:
            # A call under way (a log being saved) still finishes: nothing is lost.
            self._worker.shutdown(wait=False)
            self._worker = None

    def post(self, fn: Callable[[], None]) -> None:
        """From any thread: call ``fn()`` on the GUI thread, in order with the core's events
        (a log stream's lines, say). See ``ui.operations.Operations.homeward``."""
        self._queue(_Call(fn))

    def call(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``fn(*args)`` off the GUI thread (a core call that waits on the disk, such as
        saving a log); its Future comes home like any other (``ui.operations``)."""
        if self._worker is None:
            # Made on first use: no thread at the window's start.
            self._worker = ThreadPoolExecutor(max_workers=1,
                                              thread_name_prefix="moorings-gui-call")
        return self._worker.submit(fn, *args)

    def _on_core_event(self, event: object) -> None:
        # Any thread.
        if not isinstance(event, NOT_SHOWN):
            self._queue(event)

    def _queue(self, event: object) -> None:
        # The event waits in order, and one queued signal wakes the GUI thread.
        with self._pending_lock:
            self._pending.append(event)
            wake = not self._drain_scheduled
            self._drain_scheduled = True
        if wake:
            self._incoming.emit()

    @Slot()
    def _drain(self) -> None:
        """Re-emit waiting events in order, for at most a few milliseconds at a time.

        A burst (300 containers starting at once) would otherwise hold the event loop for as
        long as all its updates take; yielding keeps input and painting responsive.
        """
        started = time.perf_counter()
        while True:
            with self._pending_lock:
                if not self._pending:
                    self._drain_scheduled = False
                    return
                event = self._pending.popleft()
            self._dispatch(event)
            if time.perf_counter() - started > DRAIN_BUDGET_S:
                QTimer.singleShot(0, self, self._drain)
                return

    def _dispatch(self, event: object) -> None:
        if isinstance(event, StateChanged):
            self.state_changed.emit(event.status)
        elif isinstance(event, _Call):
            event.fn()
        elif isinstance(event, ConnectionChanged):
            self.connection_changed.emit(event)
        elif isinstance(event, InstanceAdded):
            self.instance_added.emit(event.name)
        elif isinstance(event, InstanceChanged):
            self.instance_changed.emit(event.name)
        elif isinstance(event, InstanceRemoved):
            self.instance_removed.emit(event.name)
        elif isinstance(event, EnforcementChanged):
            self.enforcement_changed.emit(event.status)
        elif isinstance(event, RowAdded):
            self.row_added.emit(event.row)
        elif isinstance(event, RowChanged):
            self.row_changed.emit(event.row, event.fields)
        elif isinstance(event, RowRemoved):
            self.row_removed.emit(event.id)
        elif isinstance(event, ImagesChanged):
            self.images_changed.emit(tuple(event.rows))
        elif isinstance(event, FeedState):
            self.feed_state.emit(event)
        elif isinstance(event, CloudLinkChanged):
            self.cloud_link_changed.emit(event)

    def when_done(self, future: Future[Any], callback: Callable[[Future[Any]], None]) -> None:
        """Call ``callback(future)`` on the GUI thread once ``future`` is settled (widgets use
        ``ui.operations``, which owns the result's way to its widget)."""
        future.add_done_callback(lambda f: self._deliver.emit(callback, f))

    @Slot(object, object)
    def _on_deliver(self, callback: Callable[[Future[Any]], None], future: Future[Any]) -> None:
        callback(future)

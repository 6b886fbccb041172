"""The inventory's events, re-emitted as Qt signals on the GUI thread (as ui/bridge.py does)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.inventory.feed import FeedState, ImagesChanged, RowAdded, RowChanged, RowRemoved
from app.inventory.rows import ContainerRow, ImageRow


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


class InventoryBridge(QObject):
    """Lives on the GUI thread. The inventory calls :meth:`_on_core_event` on any thread; the
    event is queued to the GUI thread and only there re-emitted, so every receiver (a bound
    slot or a plain lambda) runs on the GUI thread."""

    row_added = Signal(object)           # ContainerRow
    row_changed = Signal(object, object)  # ContainerRow, frozenset[str] of field names
    row_removed = Signal(str)            # container id
    images_changed = Signal(object)      # tuple[ImageRow, ...]
    feed_state = Signal(object)          # FeedState
    _incoming = Signal(object)           # any event, queued home to the GUI thread
    _deliver = Signal(object, object)    # callback, future: settled futures come home here

    def __init__(self, inventory: InventoryLike, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._inventory = inventory
        self._incoming.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self._deliver.connect(self._on_deliver, Qt.ConnectionType.QueuedConnection)
        inventory.add_listener(self._on_core_event)

    @property
    def inventory(self) -> InventoryLike:
        return self._inventory

    def detach(self) -> None:
        self._inventory.remove_listener(self._on_core_event)

    def _on_core_event(self, event: object) -> None:
        # Any thread: only a queued signal leaves here, never a widget call.
        self._incoming.emit(event)

    @Slot(object)
    def _dispatch(self, event: object) -> None:
        if isinstance(event, RowAdded):
            self.row_added.emit(event.row)
        elif isinstance(event, RowChanged):
            self.row_changed.emit(event.row, event.fields)
        elif isinstance(event, RowRemoved):
            self.row_removed.emit(event.id)
        elif isinstance(event, ImagesChanged):
            self.images_changed.emit(tuple(event.rows))
        elif isinstance(event, FeedState):
            self.feed_state.emit(event)

    def when_done(self, future: Future[Any], callback: Callable[[Future[Any]], None]) -> None:
        """Call ``callback(future)`` on the GUI thread once ``future`` is settled."""
        future.add_done_callback(lambda f: self._deliver.emit(callback, f))

    @Slot(object, object)
    def _on_deliver(self, callback: Callable[[Future[Any]], None], future: Future[Any]) -> None:
        callback(future)


def error_sentence(exc: BaseException) -> str:
    """The sentence to show for a failed action: an EngineError's own sentence, else str()."""
    sentence = getattr(exc, "sentence", None)
    text = sentence if isinstance(sentence, str) and sentence else str(exc)
    return text or type(exc).__name__

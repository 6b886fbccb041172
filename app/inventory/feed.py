"""The live inventory: every container and image on the engine, kept current from engine events."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from app.engine.errors import EngineError, engine_error, is_unreachable
from app.engine.gateway import Engine
from app.engine.times import parse_rfc3339
from app.inventory.actions import action_engine, container_action, settle
from app.inventory.event_rows import expectation, row_after_event, row_from_create
from app.inventory.events import (
    FeedState,
    ImagesChanged,
    InventoryEvent,
    InventoryListener,
    RowAdded,
    RowChanged,
    RowRemoved,
)
from app.inventory.images import ImageList
from app.inventory.rows import (
    ContainerRow,
    ImageRow,
    changed_fields,
    row_from_listing,
)
from app.orchestrator.events import ConnectionChanged, ContainerBlocked, ContainerEvent, Event
from app.orchestrator.service import Orchestrator

__all__ = ["FeedState", "ImagesChanged", "Inventory", "InventoryEvent", "InventoryListener",
           "RowAdded", "RowChanged", "RowRemoved"]

log = logging.getLogger(__name__)
T = TypeVar("T")

LISTING_TIMEOUT_S = 30
# After a failed listing the next try comes sooner than a routine heal: the table is stale.
RETRY_AFTER_FAILURE_S = 5.0
# A replayed event (the engine re-sends what happened while the stream was down) older than
# the listing that just ran is already reflected in it; applying it again would make a row
# flicker back to an old state. The margin absorbs the listing's own duration.
REPLAY_MARGIN_S = 1.0

# The engine publishes an event a moment before its listing shows the change (a "die" while
# the listing still says running). A listing that contradicts the last event is such a lag: the
# row keeps what the event said and is listed again shortly, until the listing agrees or this
# long has passed (then the listing wins: the event was superseded by one still to come).
EXPECT_WINDOW_S = 2.0
REFILL_DELAY_S = 0.1
# The fill-in listing asks for every container the last events touched in one request (the
# engine filters its whole list for each request: one per container made a burst of 300
# starts cost 300 listings), in chunks that keep the request's URL short.
FILL_IN_CHUNK = 100
# The row changes at once from the event; its fill-in listing waits this long so that one
# request covers the burst of events that usually follows (create, start; die, destroy).
FILL_IN_DELAY_S = 0.2

# Container actions that change what a row shows; others (exec_*, attach, resize, top,
# archive, commit...) fire often (a health check runs an exec every interval) and change none.
_RELEVANT = frozenset({"create", "start", "restart", "die", "stop", "kill", "oom", "pause",
                       "unpause", "destroy", "rename", "health_status", "update"})


# ---------------------------------------------------------------- worker queue items

@dataclass
class _Task:
    fn: Callable[[], None]
    future: Future[None] | None = None


class _Stop:
    pass


_Item = ContainerEvent | ConnectionChanged | _Task | _Stop


class Inventory:
    """Every container on the engine (Moorings' or not) and every image, kept live.

    The first load is one ``docker ps -a``-sized listing; after it, each engine event updates
    its row at once and a one-container listing fills in the rest; a full listing every
    ``heal_interval_s`` catches anything missed. Engine I/O runs on the ``moorings-inventory``
    thread (and, for actions a person asks for, on an action thread so that a ten-second stop
    never freezes the feed); listeners are called on those threads. Add a listener before
    reading :meth:`rows`, and take a RowAdded for a row already read as an update.
    """

    def __init__(self, orchestrator: Orchestrator, *, heal_interval_s: float = 30.0) -> None:
        self._orch = orchestrator
        self._heal_s = heal_interval_s
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="moorings-inventory",
                                        daemon=True)
        self._actions = ThreadPoolExecutor(max_workers=1,
                                           thread_name_prefix="moorings-inventory-action")
        self._listeners: list[InventoryListener] = []
        self._listeners_lock = threading.Lock()
        # Snapshots readers may take from any thread.
        self._lock = threading.Lock()
        self._rows: dict[str, ContainerRow] = {}
        self._images: tuple[ImageRow, ...] = ()
        self._state = FeedState("reconnecting", None, "loading the container list")
        self._pending: set[Future[None]] = set()
        self._pending_lock = threading.Lock()
        self._started = False
        self._stopping = threading.Event()
        # Worker-thread state.
        self._api: Engine | None = None
        self._connected = False
        self._loaded = False
        self._synced_at = 0.0
        self._next_heal: float | None = None
        self._lazy: deque[str] = deque()
        self._touched: dict[str, None] = {}
        self._flush_due: float | None = None
        # What the last event said each container's listing must show, and until when.
        self._expect: dict[str, tuple[Callable[[ContainerRow], bool], float]] = {}
        self._refill: dict[str, float] = {}
        self._image_list = ImageList()
        self._blocked: dict[str, str] = {}  # container id -> why enforcement stopped it (worker)

    # ------------------------------------------------------------------ public, any thread
    def add_listener(self, fn: InventoryListener) -> None:
        with self._listeners_lock:
            self._listeners.append(fn)

    def remove_listener(self, fn: InventoryListener) -> None:
        with self._listeners_lock:
            if fn in self._listeners:
                self._listeners.remove(fn)

    def rows(self) -> list[ContainerRow]:
        """Every container, by name."""
        with self._lock:
            return sorted(self._rows.values(), key=lambda r: (r.name, r.id))

    def row(self, id: str) -> ContainerRow | None:
        with self._lock:
            return self._rows.get(id)

    def images(self) -> list[ImageRow]:
        with self._lock:
            return list(self._images)

    def state(self) -> FeedState:
        with self._lock:
            return self._state

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self._orch.add_listener(self._on_orchestrator_event)
        self._thread.start()
        self._queue.put(_Task(self._first_load))

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the threads; requests not yet done fail with "the inventory has stopped".

        Waits at most ``timeout`` for the worker (pass 0 from the GUI thread)."""
        if not self._started or self._stopping.is_set():
            return
        self._stopping.set()
        self._orch.remove_listener(self._on_orchestrator_event)
        self._queue.put(_Stop())
        self._actions.shutdown(wait=False, cancel_futures=True)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        with self._pending_lock:
            pending = list(self._pending)
        for f in pending:
            settle(f, EngineError("the inventory has stopped"))

    def refresh(self) -> Future[None]:
        """A full listing now (containers and images); the future fails with a sentence."""
        future = self._new_future()
        if not future.done():
            self._queue.put(_Task(self._sync, future))
        return future

    def start_container(self, id: str) -> Future[None]:
        return self._container_action(id, "start")

    def stop_container(self, id: str) -> Future[None]:
        return self._container_action(id, "stop")

    def restart_container(self, id: str) -> Future[None]:
        return self._container_action(id, "restart")

    def remove_container(self, id: str) -> Future[None]:
        """Stop (gracefully) and remove a container that no instance of ours manages."""
        return self._container_action(id, "remove")

    def remove_image(self, id_or_ref: str) -> Future[None]:
        """Remove an image, or one tag of it (as ``docker rmi``). Refused, with a sentence naming
        the containers, when containers still use the image it would delete."""
        future = self._new_future()
        if not future.done():
            self._submit_action(lambda f: self._do_remove_image(id_or_ref, f), future)
        return future

    # ------------------------------------------------------------------ futures and actions
    def _new_future(self) -> Future[None]:
        future: Future[None] = Future()
        if self._stopping.is_set() or not self._started:
            future.set_exception(EngineError("the inventory is not running"))
            return future
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[None]) -> None:
        with self._pending_lock:
            self._pending.discard(future)

    def _submit_action(self, fn: Callable[[Future[None]], None], future: Future[None]) -> None:
        """Run ``fn(future)`` on the action thread; ``fn`` settles the future on success."""
        def run() -> None:
            if future.done():
                return
            try:
                fn(future)
            except BaseException as exc:  # noqa: BLE001 - it goes back to the caller's future
                settle(future, exc)
        try:
            self._actions.submit(run)
        except RuntimeError:  # shut down between the check and the submit
            settle(future, EngineError("the inventory has stopped"))

    def _container_action(self, cid: str, verb: str) -> Future[None]:
        future = self._new_future()
        if not future.done():
            self._submit_action(lambda f: container_action(self._orch, cid, verb, f), future)
        return future

    def _do_remove_image(self, ref: str, future: Future[None]) -> None:
        engine = action_engine(self._orch)
        try:
            engine.remove_image(ref)
            settle(future)
        finally:
            engine.close()
            # No container event tells the feed about an image: list the images again.
            if not self._stopping.is_set():
                self._queue.put(_Task(self._refresh_images))

    # ------------------------------------------------------------------ orchestrator thread(s)
    def _on_orchestrator_event(self, event: Event) -> None:
        # Called on the orchestrator's threads (the event watcher's for container events): only
        # hand over, never wait here.
        if isinstance(event, (ContainerEvent, ConnectionChanged)):
            self._queue.put(event)
        elif isinstance(event, ContainerBlocked) and event.container_id:
            cid, reason = event.container_id, event.reason
            self._queue.put(_Task(lambda: self._mark_blocked(cid, reason)))

    # ------------------------------------------------------------------ worker thread
    def _emit(self, event: InventoryEvent) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(event)
            except Exception:  # a listener's bug must not stop the feed
                log.exception("an inventory listener failed on %s", type(event).__name__)

    def _set_state(self, state: str, reason: str = "", since: float | None = None) -> None:
        with self._lock:
            old = self._state
            if old.state == state and old.reason == reason:
                return
            if state == "stale" and old.state == "stale":
                since = old.since  # still the moment the engine went away
            new = FeedState(state, since if since is not None else time.time(), reason)
            self._state = new
        self._emit(new)

    def _run(self) -> None:
        while True:
            item = self._next_item()
            if item is None:
                continue
            batch: list[_Item] = [item]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for it in batch:
                if isinstance(it, _Stop):
                    self._close_client()
                    return
                if isinstance(it, ContainerEvent):
                    self._apply_event(it)
                    continue
                self._flush()
                if isinstance(it, ConnectionChanged):
                    self._on_connection(it)
                else:
                    self._run_task(it)
            if self._touched and self._flush_due is None:
                self._flush_due = time.monotonic() + FILL_IN_DELAY_S
            elif self._flush_due is not None and time.monotonic() >= self._flush_due:
                self._flush()  # events keep coming: do not let them starve the fill-in

    def _next_item(self) -> _Item | None:
        """The next queued item; between items: listing again what lagged behind its events,
        the lazy start times, and the heal pass."""
        now = time.monotonic()
        timeout: float | None = None
        if self._connected:
            due = [t for t in (self._next_heal, min(self._refill.values(), default=None),
                               self._image_list.due, self._flush_due) if t is not None]
            if self._lazy:
                timeout = 0.0
            elif due:
                timeout = max(0.0, min(due) - now)
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            pass
        if not self._connected:
            return None
        now = time.monotonic()
        if self._flush_due is not None and now >= self._flush_due:
            self._flush()
            return None
        ready = [cid for cid, at in self._refill.items() if at <= now]
        if ready:
            for cid in ready:
                del self._refill[cid]
                self._touched[cid] = None
            self._flush()
        elif self._image_list.due is not None and now >= self._image_list.due:
            self._refresh_images()
        elif self._lazy:
            self._inspect_started(self._lazy.popleft())
        elif self._next_heal is not None and now >= self._next_heal:
            self._run_task(_Task(self._sync))
        return None

    def _run_task(self, task: _Task) -> None:
        future = task.future
        if future is not None and not future.set_running_or_notify_cancel():
            return
        try:
            task.fn()
        except BaseException as exc:  # every failure goes back to the caller's future
            if future is not None:
                settle(future, exc)
            elif not isinstance(exc, EngineError):
                log.exception("inventory task failed")
            return
        if future is not None:
            settle(future)

    def _client(self) -> Engine:
        if not self._connected:
            conn = self._orch.connection()
            raise EngineError(f"the engine is not connected: {conn.reason or 'not yet'}")
        if self._api is None:
            # The orchestrator's target: the engine it is connected to now (the service
            # settings may have changed since our last client).
            self._api = Engine.open(self._orch.target(), timeout=LISTING_TIMEOUT_S)
        return self._api

    def _close_client(self) -> None:
        api, self._api = self._api, None
        if api is not None:
            api.close()

    # -- connection ---------------------------------------------------------------------
    def _first_load(self) -> None:
        conn = self._orch.connection()
        if conn.connected:
            self._connected = True
            self._sync()
        elif conn.host:
            # The orchestrator tried and failed: there is nothing to show, say why.
            self._set_state("error", conn.reason or "the engine is not connected")
        else:
            self._set_state("reconnecting", "waiting for the connection to the engine")

    def _on_connection(self, conn: ConnectionChanged) -> None:
        self._close_client()
        if conn.connected:
            self._connected = True
            where = f" at {conn.host}" if conn.host else ""
            self._set_state("reconnecting", f"listing the containers{where}")
            with contextlib.suppress(EngineError):  # _sync has set the state
                self._sync()
            return
        self._connected = False
        self._next_heal = None
        self._lazy.clear()
        self._refill.clear()
        self._expect.clear()
        self._image_list.due = None  # the listing after the reconnection covers the images
        reason = conn.reason or "the engine is not connected"
        if self._loaded:
            # The rows stay: they are what the engine last said, marked as such.
            self._set_state("stale", reason)
        else:
            self._set_state("error", reason)

    def _listing_failed(self, exc: BaseException, action: str) -> EngineError:
        error = engine_error(exc, action=action, engine=self._orch.target().url)
        self._close_client()
        if self._loaded:
            self._set_state("stale", error.sentence)
        else:
            self._set_state("error", error.sentence)
        self._next_heal = time.monotonic() + min(self._heal_s, RETRY_AFTER_FAILURE_S)
        return error

    # -- full listing -------------------------------------------------------------------
    def _sync(self) -> None:
        """List every container and image, diff against the rows, publish the differences."""
        if not self._connected:
            # Nothing to ask: the state already says why (the orchestrator's reason).
            conn = self._orch.connection()
            raise EngineError(f"the engine is not connected: {conn.reason or 'not yet'}")
        self._next_heal = time.monotonic() + self._heal_s
        try:
            api = self._client()
            started_at = time.time()
            containers = api.containers()
            images = api.images()
        except Exception as exc:
            raise self._listing_failed(exc, "listing the containers") from exc
        self._synced_at = started_at
        seen: set[str] = set()
        for item in containers:
            seen.add(self._merge_listing(item))
        with self._lock:
            gone = [cid for cid in self._rows if cid not in seen]
        for cid in gone:
            self._remove_row(cid)
        self._touched.clear()
        self._image_list.listed(images)
        self._publish_images()
        first = not self._loaded
        self._loaded = True
        self._set_state("live")
        # The listing has no start time; inspecting now would make the first load as slow as
        # `containers.list`. The rows are out: fetch the start times one by one, behind events.
        with self._lock:
            missing = [r.id for r in self._rows.values()
                       if r.state in ("running", "paused", "restarting") and r.started is None]
        queued = set(self._lazy)
        self._lazy.extend(cid for cid in missing if cid not in queued)
        if first:
            log.info("inventory: %d containers, %d images", len(seen), len(images))

    def _merge_listing(self, item: Mapping[str, Any]) -> str:
        cid = str(item.get("Id", ""))
        with self._lock:
            old = self._rows.get(cid)
        new = row_from_listing(item, self._orch.store_id, previous=old)
        self._image_list.uses(cid, str(item.get("ImageID") or ""))
        expected = self._expect.get(cid)
        if expected is not None and old is not None:
            agrees, until = expected
            if agrees(new):
                del self._expect[cid]
            elif time.monotonic() < until:
                # The listing lags the event: keep the row as the event left it, ask again.
                self._refill[cid] = time.monotonic() + REFILL_DELAY_S
                return cid
            else:
                del self._expect[cid]
        self._put_row(old, new)
        return cid

    def _mark_blocked(self, cid: str, reason: str) -> None:
        """Enforcement stopped the container: its row says why, until it is removed."""
        self._blocked[cid] = reason
        with self._lock:
            old = self._rows.get(cid)
        if old is not None:
            self._put_row(old, replace(old, blocked=reason))

    def _put_row(self, old: ContainerRow | None, new: ContainerRow) -> None:
        if new.blocked != self._blocked.get(new.id, ""):
            new = replace(new, blocked=self._blocked.get(new.id, ""))
        if old == new:
            return
        with self._lock:
            self._rows[new.id] = new
        if old is None or old.name != new.name:
            self._image_list.users_dirty = True
        if old is None:
            self._emit(RowAdded(new))
            return
        fields = changed_fields(old, new)
        # "Up 11 seconds" becoming "Up 41 seconds" is the clock, not a change: a heal pass
        # over young containers would otherwise repaint every row (the row is still kept).
        if fields != {"status_text"}:
            self._emit(RowChanged(new, fields))

    def _remove_row(self, cid: str) -> None:
        self._blocked.pop(cid, None)
        with self._lock:
            old = self._rows.pop(cid, None)
        self._image_list.forget(cid)
        self._expect.pop(cid, None)
        self._refill.pop(cid, None)
        if old is not None:
            self._emit(RowRemoved(cid))

    # -- events ---------------------------------------------------------------------------
    def _apply_event(self, ev: ContainerEvent) -> None:
        """Update the row at once from what the event says; the fill-in listing follows."""
        if not self._loaded or not ev.container_id:
            return  # the full listing to come covers it
        action, _, detail = ev.action.partition(":")
        action, detail = action.strip(), detail.strip()
        if action not in _RELEVANT:
            return
        cid = ev.container_id
        if action == "destroy":
            self._touched.pop(cid, None)
            if self.row(cid) is not None:
                self._remove_row(cid)
                self._mark_images_dirty()
            return
        self._touched[cid] = None
        if ev.time < self._synced_at - REPLAY_MARGIN_S:
            return  # replayed, and older than the last listing: only the fill-in may change it
        old = self.row(cid)
        agrees = expectation(action, detail)
        if agrees is not None:
            self._expect[cid] = (agrees, time.monotonic() + EXPECT_WINDOW_S)
        if action == "create":
            self._mark_images_dirty()  # `docker run` may have pulled a new image
            if old is None:
                self._put_row(None, row_from_create(ev, self._orch.store_id))
            return
        if old is None:
            return  # not seen yet: the fill-in listing adds it whole
        self._put_row(old, row_after_event(old, ev, action, detail))

    def _flush(self) -> None:
        """The fill-in listing for the containers the last events touched, then images."""
        touched, self._touched = list(self._touched), {}
        self._flush_due = None
        if not self._connected:
            return
        for start in range(0, len(touched), FILL_IN_CHUNK):
            chunk = touched[start:start + FILL_IN_CHUNK]
            try:
                found = self._client().containers(ids=chunk)
            except EngineError as exc:
                if is_unreachable(exc):  # the engine went away: marked stale
                    self._listing_failed(exc, "listing a container")
                    return
                log.debug("listing %d containers failed", len(chunk), exc_info=True)
                continue
            by_id = {str(c.get("Id", "")): c for c in found}
            for cid in chunk:
                item = by_id.get(cid)
                if item is not None:
                    self._merge_listing(item)
                else:
                    self._remove_row(cid)  # gone before we asked: its destroy event is coming
        if self._image_list.users_dirty and not self._image_list.dirty:
            self._publish_images()

    def _mark_images_dirty(self) -> None:
        self._image_list.mark_dirty(time.monotonic())

    def _refresh_images(self) -> None:
        self._image_list.taken()
        if not self._connected:
            return
        try:
            self._image_list.listed(self._client().images())
        except EngineError as exc:
            if is_unreachable(exc):  # the engine went away: marked stale
                self._listing_failed(exc, "listing the images")
                return
            log.debug("listing images failed", exc_info=True)
        self._publish_images()

    def _publish_images(self) -> None:
        with self._lock:
            names = [(cid, row.name) for cid, row in self._rows.items()]
            old = self._images
        new = self._image_list.rows(names)
        if new == old:
            return
        with self._lock:
            self._images = new
        self._emit(ImagesChanged(new))

    def _inspect_started(self, cid: str) -> None:
        row = self.row(cid)
        if row is None or row.started is not None:
            return
        try:
            info = self._client().inspect(cid)
        except EngineError as exc:
            if is_unreachable(exc):  # the engine went away: marked stale
                self._listing_failed(exc, "inspecting a container")
            return  # or gone meanwhile: its destroy event is on its way
        started = parse_rfc3339(str((info.get("State") or {}).get("StartedAt") or ""))
        now = self.row(cid)
        if now is not None and now.started is None and started is not None:
            self._put_row(now, replace(now, started=started))

"""The orchestration service: one reconcile thread that makes the engine match the stored instances.

Every public method returns at once (a Future or a snapshot). Engine I/O, pulls and disk writes
happen on the service's own threads; listeners receive typed events on those threads.
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import docker.errors
import requests.exceptions

from app import threadguard as guard
from app.config.model import Scalar
from app.config.repository import ConfigRepository, InstanceConfig
from app.engine.errors import EngineError, engine_error, explain
from app.engine.hosts import EngineTarget
from app.engine.progress import PullProgress
from app.engine.pull import PullError, image_present, pull_image
from app.engine.spec import (
    LABEL_INSTANCE,
    LABEL_MANAGED,
    LABEL_STORE,
    ContainerSpec,
    create_container,
    spec_from_values,
)
from app.engine.watcher import EventWatcher
from app.errors import ConfigError
from app.metatype import INSTANCE_FACTORY_PID, SERVICE_PID
from app.orchestrator.commands import (
    PRIORITY_API,
    PRIORITY_ENGINE,
    PRIORITY_PERSON,
    PRIORITY_SHUTDOWN,
    Command,
)
from app.orchestrator.events import (
    ConnectionChanged,
    ContainerEvent,
    Event,
    EventHub,
    InstanceRemoved,
    Listener,
    PullProgressed,
    StateChanged,
)
from app.orchestrator.history import History, HistoryEntry
from app.orchestrator.planner import Action, Desired, Kind, Observed, plan
from app.orchestrator.runtime import RuntimeState, store_id
from app.orchestrator.state import InstanceStatus, Phase

log = logging.getLogger(__name__)
T = TypeVar("T")

STOP_TIMEOUT_S = 10
UNLIMITED_BACKOFF_CAP_S = 600.0
UNLIMITED_MIN_INTERVAL_S = 1.0
RECONNECT_FIRST_S = 0.5
RECONNECT_CAP_S = 30.0
START_WORKERS = 4
EXPECTED_EVENT_WINDOW_S = 60.0
# An engine's shutdown stops containers for up to its stop timeout before the stream ends.
SHUTDOWN_STOP_WINDOW_S = 60.0


class EngineUnavailable(EngineError):
    """The engine cannot be reached now; the service keeps trying by itself."""


@dataclass
class _PullTask:
    reference: str
    generation: int
    cancel: threading.Event
    future: Future[None]


def _period(sentence: str) -> str:
    sentence = sentence.strip()
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def _is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, (requests.exceptions.ConnectionError, ConnectionError,
                        FileNotFoundError, PermissionError)):
        return True
    if isinstance(exc, docker.errors.DockerException) and not isinstance(
            exc, docker.errors.APIError):
        text = str(exc).lower()
        return "connection" in text or "socket" in text or "no such file" in text
    return False


class Orchestrator:
    """Reconciles desired state (the repository) against observed state (labelled containers).

    One reconcile at a time, on one thread; a person's requests are served before routine
    passes. Apply, restore at launch, reconnect and the periodic pass all go through
    :meth:`_reconcile`.
    """

    def __init__(self, repo: ConfigRepository, *, periodic_interval_s: float = 30.0,
                 store_folder: Path | None = None) -> None:
        self._repo = repo
        folder = store_folder or repo.store.folder
        self._store_id = store_id(folder)
        self._runtime = RuntimeState(folder)
        self._hub = EventHub()
        self._history = History()
        self._periodic_s = periodic_interval_s
        self._queue: queue.PriorityQueue[Command] = queue.PriorityQueue()
        self._thread = threading.Thread(target=self._run, name="moorings-reconcile", daemon=True)
        self._pull_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="moorings-pull")
        self._status_lock = threading.Lock()
        self._statuses: dict[str, InstanceStatus] = {}
        self._connection = ConnectionChanged(False, "", "not connected yet")
        self._target = EngineTarget()
        # Reconcile-thread state (touched only on that thread).
        self._api: Any = None
        self._watcher: EventWatcher | None = None
        self._last_event_time: float | None = None
        self._timers: list[tuple[float, str]] = []
        self._reconnect_delay = RECONNECT_FIRST_S
        self._attempts: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}
        self._exited: set[str] = set()
        self._pulled: dict[str, str] = {}
        self._pulls: dict[str, _PullTask] = {}
        self._generation: dict[str, int] = {}
        self._expected: dict[str, float] = {}
        # Stops seen only as engine events (docker stop, or the engine shutting down).
        self._inferred_stops: dict[str, float] = {}
        self._first_pass_done = False
        self._batch: list[tuple[str, str, ContainerSpec]] | None = None
        self._image_cache: set[str] | None = None
        self._stopping = threading.Event()
        self._started = False

    # ------------------------------------------------------------------ public, any thread
    @property
    def repository(self) -> ConfigRepository:
        return self._repo

    @property
    def store_id(self) -> str:
        return self._store_id

    def add_listener(self, listener: Listener) -> None:
        self._hub.add(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._hub.remove(listener)

    def connection(self) -> ConnectionChanged:
        return self._connection

    def target(self) -> EngineTarget:
        """How the engine is reached now (changes when the service settings change)."""
        return self._target

    def status(self, name: str) -> InstanceStatus | None:
        with self._status_lock:
            return self._statuses.get(name)

    def statuses(self) -> dict[str, InstanceStatus]:
        with self._status_lock:
            return dict(self._statuses)

    def history(self, name: str) -> list[HistoryEntry]:
        return self._history.entries(name)

    def start(self) -> None:
        """Start the threads; the first pass restores every enabled instance."""
        if self._started:
            return
        self._started = True
        for inst in self._repo.instances():
            enabled = bool(inst.values.get(self._enabled_id(), False))
            phase = Phase.WAITING_FOR_ENGINE if enabled else Phase.DISABLED
            self._set_status(InstanceStatus(inst.name, phase, "connecting to the engine"
                                            if enabled else ""), record=False)
        self._thread.start()
        self._submit(self._connect, PRIORITY_PERSON, "connect")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the service's threads and leave every container as it is."""
        if not self._started or self._stopping.is_set():
            return
        self._stopping.set()
        for task in list(self._pulls.values()):
            task.cancel.set()
        self._queue.put(Command(lambda: None, PRIORITY_SHUTDOWN, "shutdown"))
        self._thread.join(timeout)
        self._pull_pool.shutdown(wait=False, cancel_futures=True)
        self._target.end_ssh_children()  # also those of a call still blocked on the engine

    # Requests. Each returns a Future settled on the reconcile thread.
    def reconcile(self, names: list[str] | None = None) -> Future[None]:
        only = frozenset(names) if names is not None else None
        return self._submit(lambda: self._reconcile(only, "request"), PRIORITY_PERSON,
                            "reconcile")

    def create_instance(self, name: str, values: Mapping[str, object] | None = None,
                        factory: str = INSTANCE_FACTORY_PID) -> Future[InstanceConfig]:
        def run() -> InstanceConfig:
            inst = self._repo.create_instance(name, factory, values)
            self._history.add(name, "created", "the instance was created")
            self._reset(name)
            self._reconcile(frozenset({name}), "apply")
            return inst
        return self._submit(run, PRIORITY_PERSON, f"create {name}")

    def apply(self, name: str, values: Mapping[str, object] | None = None
              ) -> Future[InstanceConfig]:
        """Validate and store ``values`` (if given), then make the engine match.

        An invalid configuration raises ConfigError in the future and changes nothing.
        """
        def run() -> InstanceConfig:
            inst = (self._repo.update_instance(name, values) if values is not None
                    else self._repo.instance(name))
            self._history.add(name, "applied", "the configuration was applied")
            self._reset(name)
            self._reconcile(frozenset({name}), "apply")
            return inst
        return self._submit(run, PRIORITY_PERSON, f"apply {name}")

    def delete_instance(self, name: str) -> Future[None]:
        """Remove the instance's container (if ours) and then its configuration."""
        def run() -> None:
            self._repo.delete_instance(name)
            self._reset(name)
            self._runtime.set_stopped(name, False)
            self._reconcile(frozenset({name}), "delete")
            with self._status_lock:
                self._statuses.pop(name, None)
            self._history.forget(name)
            self._hub.emit(InstanceRemoved(name))
        return self._submit(run, PRIORITY_PERSON, f"delete {name}")

    def update_service(self, values: Mapping[str, object]) -> Future[dict[str, Scalar]]:
        """Store the service settings; a new host or TLS setting reconnects and reconciles."""
        def run() -> dict[str, Scalar]:
            stored = self._repo.update_service(values)
            self._disconnect("the engine settings changed")
            self._connect()
            return stored
        return self._submit(run, PRIORITY_PERSON, "update service")

    def stop_container(self, name: str) -> Future[None]:
        """A person's stop: the container stays stopped until they start it or apply again."""
        return self._submit(lambda: self._person_stop(name), PRIORITY_PERSON, f"stop {name}")

    def start_container(self, name: str) -> Future[None]:
        def run() -> None:
            self._runtime.set_stopped(name, False)
            self._reset(name)
            self._history.add(name, "start", "a person asked to start the container")
            self._reconcile(frozenset({name}), "apply")
        return self._submit(run, PRIORITY_PERSON, f"start {name}")

    def retry_instance(self, name: str) -> Future[None]:
        """A person's Retry after the instance gave up: fresh attempts with the stored values."""
        def run() -> None:
            self._reset(name)
            self._history.add(name, "retry", "a person asked to try again")
            self._reconcile(frozenset({name}), "apply")
        return self._submit(run, PRIORITY_PERSON, f"retry {name}")

    def restart_container(self, name: str) -> Future[None]:
        def run() -> None:
            c = self._find_ours(name)
            if c is None:
                raise EngineError(f"{name} has no container to restart.")
            self._expect(c.id)
            self._engine(lambda api: api.restart(c.id, timeout=STOP_TIMEOUT_S),
                         f"restarting {name}")
            self._runtime.set_stopped(name, False)
            self._exited.discard(name)
            self._history.add(name, "restarted", "a person restarted the container")
            self._reconcile(frozenset({name}), "request")
        return self._submit(run, PRIORITY_PERSON, f"restart {name}")

    def run_pull(self, reference: str, auth: dict[str, str] | None, timeout_s: float,
                 on_progress: Callable[[PullProgress], None] | None, *,
                 always: bool = False) -> Future[None]:
        """Pull ``reference`` on a pull thread (skipped when present, unless ``always``)."""
        target = self._target

        def run() -> None:
            if not always:
                api = target.api_client(timeout=60)
                try:
                    if image_present(api, reference):
                        return
                finally:
                    api.close()
            pull_image(target.api_client, reference, auth, timeout_s=timeout_s,
                       on_progress=on_progress)
        return self._pull_pool.submit(run)

    def call_engine(self, fn: Callable[[Any], T], label: str = "engine call") -> Future[T]:
        """Run ``fn(api)`` on the reconcile thread with the connected low-level client.

        Engine failures reach the future as EngineError with a sentence for a person.
        """
        def run() -> T:
            try:
                return self._engine(fn, label)
            except EngineError:
                raise
            except Exception as exc:
                raise engine_error(exc, action=label, engine=self._target.url) from exc
        return self._submit(run, PRIORITY_API, label)

    # ------------------------------------------------------------------ reconcile thread
    def _submit(self, fn: Callable[[], T], priority: int, label: str) -> Future[T]:
        cmd = Command(fn, priority, label)
        if self._stopping.is_set():
            cmd.future.set_exception(EngineError("the orchestrator has stopped"))
            return cmd.future
        self._queue.put(cmd)
        return cmd.future

    def _run(self) -> None:
        self._schedule(time.monotonic() + self._periodic_s, "periodic")
        while not self._stopping.is_set():
            timeout = None
            if self._timers:
                timeout = max(0.0, self._timers[0][0] - time.monotonic())
            try:
                cmd = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._fire_timers()
                continue
            if self._stopping.is_set():
                cmd.future.set_exception(EngineError("the orchestrator has stopped"))
                break
            if not cmd.future.set_running_or_notify_cancel():
                continue
            try:
                result = cmd.fn()
            except BaseException as exc:  # every failure goes back to the caller's future
                if not isinstance(exc, (ConfigError, EngineError)):
                    log.exception("%s failed", cmd.label)
                cmd.future.set_exception(exc)
            else:
                cmd.future.set_result(result)
            self._fire_timers()
        self._shutdown_threads()
        while True:
            try:
                pending = self._queue.get_nowait()
            except queue.Empty:
                break
            if not pending.future.done():
                pending.future.set_exception(EngineError("the orchestrator has stopped"))

    def _shutdown_threads(self) -> None:
        """Stop the event stream and close the client (the connection state is left as is)."""
        if self._watcher is not None:
            self._last_event_time = self._watcher.last_time
            self._watcher.stop()
            self._watcher = None
        if self._api is not None:
            try:
                self._api.close()
            except Exception:
                log.debug("closing the engine client failed", exc_info=True)
            self._api = None

    def _schedule(self, when: float, key: str) -> None:
        heapq.heappush(self._timers, (when, key))

    def _fire_timers(self) -> None:
        now = time.monotonic()
        due: list[str] = []
        while self._timers and self._timers[0][0] <= now:
            due.append(heapq.heappop(self._timers)[1])
        for key in dict.fromkeys(due):
            try:
                if key == "periodic":
                    self._schedule(now + self._periodic_s, "periodic")
                    self._reconcile(None, "periodic")
                elif key == "reconnect":
                    self._connect()
                elif key.startswith("retry:"):
                    name = key.split(":", 1)[1]
                    if name in self._retry_at and self._retry_at[name] <= time.time() + 0.05:
                        self._retry_at.pop(name, None)
                        self._reconcile(frozenset({name}), "retry")
            except Exception:
                log.exception("timer %s failed", key)

    # -- connection ----------------------------------------------------------------------
    def _enabled_id(self) -> str:
        desc = self._repo.catalog.by_pid(INSTANCE_FACTORY_PID).find_by_role("enabled")
        return desc.id if desc else "container.enabled"

    def _service_enabled(self, values: Mapping[str, Scalar]) -> bool:
        desc = self._repo.catalog.by_pid(SERVICE_PID).find_by_role("enabled")
        return bool(values.get(desc.id, True)) if desc else True

    def _connect(self) -> None:
        if self._api is not None:
            return
        service = self._repo.service_values()
        self._target = EngineTarget.from_values(self._repo.catalog.by_pid(SERVICE_PID), service)
        host = self._target.url
        if not self._service_enabled(service):
            self._connection = ConnectionChanged(False, host, "the orchestration service is "
                                                 "disabled in its settings")
            self._hub.emit(self._connection)
            self._mark_waiting(self._connection.reason)
            return
        try:
            api = self._target.api_client(timeout=60)
            api.ping()
        except Exception as exc:  # noqa: BLE001 - any failure here is reported, not raised
            reason = explain(exc, action=f"connecting to the engine at {host}")
            first = self._connection.connected or self._connection.reason != reason
            self._connection = ConnectionChanged(False, host, reason)
            if first:
                log.warning("engine not reachable: %s", reason)
                self._hub.emit(self._connection)
            self._mark_waiting(reason)
            self._schedule(time.monotonic() + self._reconnect_delay, "reconnect")
            self._reconnect_delay = min(self._reconnect_delay * 2, RECONNECT_CAP_S)
            return
        self._api = api
        self._reconnect_delay = RECONNECT_FIRST_S
        version = str(getattr(api, "api_version", ""))
        self._connection = ConnectionChanged(True, host, "", version)
        log.info("connected to the engine at %s (API %s)", host, version)
        self._hub.emit(self._connection)
        self._start_watcher()
        trigger = "reconnect" if self._first_pass_done else "restore"
        # An engine that went away took its containers down with it: that is not their own
        # exit, so bring them back.
        self._exited.clear()
        for name in self._repo.instance_names():
            self._history.add(name, trigger, "connected to the engine at " + host
                              if trigger == "reconnect" else "restoring at launch")
        self._reconcile(None, trigger)
        self._first_pass_done = True

    def _start_watcher(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        since = self._last_event_time
        self._watcher = EventWatcher(self._target, self._on_engine_event_thread,
                                     self._on_stream_lost_thread, since)
        self._watcher.start()

    def _disconnect(self, reason: str) -> None:
        self._shutdown_threads()
        for task in self._pulls.values():
            task.cancel.set()
        self._connection = ConnectionChanged(False, self._target.url, reason)
        self._hub.emit(self._connection)
        self._mark_waiting(reason)

    def _engine_lost(self, reason: str) -> None:
        """The engine went away: say so, and keep trying with capped backoff."""
        if self._api is None:
            return
        log.warning("lost the engine: %s", reason)
        self._revoke_shutdown_stops()
        self._disconnect(reason)
        self._reconnect_delay = RECONNECT_FIRST_S
        self._schedule(time.monotonic() + self._reconnect_delay, "reconnect")

    def _revoke_shutdown_stops(self) -> None:
        """An engine that shuts down stops its containers and reports each as a plain stop,
        just as ``docker stop`` would. Stops seen just before the engine went away were the
        engine's, not a person's: they must not keep the containers stopped afterwards."""
        now = time.monotonic()
        for name, when in list(self._inferred_stops.items()):
            if now - when <= SHUTDOWN_STOP_WINDOW_S:
                self._runtime.set_stopped(name, False)
                self._history.add(name, "engine stop", "the engine stopped the container while "
                                  "shutting down; it will be started again")
        self._inferred_stops.clear()

    def _mark_waiting(self, reason: str) -> None:
        for inst in self._repo.instances():
            if bool(inst.values.get(self._enabled_id(), False)):
                self._set_status(self._status_or_new(inst.name).with_(
                    phase=Phase.WAITING_FOR_ENGINE, reason=reason, progress=None),
                    record=False)

    def _on_stream_lost_thread(self, reason: str) -> None:
        self._submit(lambda: self._check_engine(reason), PRIORITY_ENGINE, "stream lost")

    def _check_engine(self, reason: str) -> None:
        if self._api is None:
            return
        try:
            self._api.ping()
        except Exception as exc:  # noqa: BLE001 - any failure here is reported, not raised
            self._engine_lost(explain(exc, action=f"reaching the engine at {self._target.url}"))
            return
        # The engine answers: the stream broke on its own; subscribe again, replaying the gap.
        if self._watcher is not None:
            self._last_event_time = self._watcher.last_time
        self._start_watcher()
        self._reconcile(None, "reconnect")

    def _engine(self, fn: Callable[[Any], T], label: str) -> T:
        """Call the engine on this thread; a lost connection becomes EngineUnavailable."""
        guard.check()
        if self._api is None:
            raise EngineUnavailable(f"{label} cannot be done now: "
                                    f"{self._connection.reason or 'the engine is not connected'}.")
        try:
            return fn(self._api)
        except EngineError:
            raise
        except Exception as exc:
            if _is_connection_error(exc):
                sentence = explain(exc, action=label)
                self._engine_lost(sentence)
                raise EngineUnavailable(sentence) from exc
            raise

    # -- status --------------------------------------------------------------------------
    def _status_or_new(self, name: str) -> InstanceStatus:
        with self._status_lock:
            return self._statuses.get(name) or InstanceStatus(name, Phase.DISABLED)

    def _set_status(self, status: InstanceStatus, *, record: bool = True,
                    kind: str | None = None) -> None:
        with self._status_lock:
            old = self._statuses.get(status.name)
            self._statuses[status.name] = status
        if old == status:
            return
        changed_phase = old is None or old.phase != status.phase or old.reason != status.reason
        if record and changed_phase:
            self._history.add(status.name, kind or status.phase.value,
                              status.reason or status.phase.value)
            log.info("%s: %s", status.name, status.summary())
        self._hub.emit(StateChanged(status))

    def _reset(self, name: str) -> None:
        """A person's apply or start: a fresh run with fresh attempts."""
        self._inferred_stops.pop(name, None)
        self._attempts.pop(name, None)
        self._retry_at.pop(name, None)
        self._exited.discard(name)
        self._pulled.pop(name, None)
        self._runtime.set_stopped(name, False)

    def _expect(self, container_id: str) -> None:
        """Our own stop/remove is coming: its events are not a person's or a crash."""
        self._expected[container_id] = time.monotonic() + EXPECTED_EVENT_WINDOW_S

    def _is_expected(self, container_id: str) -> bool:
        now = time.monotonic()
        for cid, until in list(self._expected.items()):
            if until < now:
                del self._expected[cid]
        return container_id in self._expected

    # -- reconcile -----------------------------------------------------------------------
    def _desired(self, only: frozenset[str] | None = None) -> list[Desired]:
        out: list[Desired] = []
        for inst in self._repo.instances():
            if only is not None and inst.name not in only:
                continue
            comp = self._repo.catalog.by_pid(inst.factory)
            enabled = bool(inst.values.get(self._enabled_id(), False))
            try:
                spec = spec_from_values(comp, inst.name, inst.values)
                out.append(Desired(inst.name, enabled, spec))
            except ConfigError as exc:
                problem = "; ".join(str(e) for e in exc.errors)
                out.append(Desired(inst.name, enabled, None,
                                   f"the stored configuration is not valid: {problem}"))
        return out

    def _observe(self) -> list[Observed]:
        rows = self._engine(lambda api: api.containers(all=True), "listing containers")
        out: list[Observed] = []
        for row in rows:
            names = row.get("Names") or []
            name = names[0].lstrip("/") if names else row.get("Id", "")[:12]
            out.append(Observed(row["Id"], name, str(row.get("State", "")),
                                dict(row.get("Labels") or {})))
        return out

    def _reconcile(self, only: frozenset[str] | None, trigger: str) -> None:
        if self._api is None:
            if not self._stopping.is_set():
                self._mark_waiting(self._connection.reason or "the engine is not connected")
            return
        try:
            desired = self._desired(only)
            observed = self._observe()
        except EngineUnavailable:
            return
        actions = plan(desired, observed, self._store_id,
                       stopped_by_person=self._runtime.stopped_by_person(),
                       exited_by_itself=frozenset(self._exited), only=only)
        # Starts are collected and run together at the end of the pass: the engine's start
        # dominates (a quarter of a second each), and several run side by side.
        self._image_cache = None
        self._batch = []
        try:
            for action in actions:
                if self._api is None:
                    break
                try:
                    self._execute(action, trigger)
                except EngineUnavailable:
                    break
                except Exception as exc:
                    log.exception("reconciling %s failed", action.name)
                    self._set_status(self._status_or_new(action.name).with_(
                        phase=Phase.FAILED,
                        reason=explain(exc, action=f"reconciling {action.name}")))
            batch, self._batch = self._batch, None
            if batch and self._api is not None:
                self._start_batch(batch)
        finally:
            self._batch = None
            self._image_cache = None

    def _image_present(self, reference: str) -> bool:
        """Whether the engine has ``reference``, from one image listing per pass."""
        if self._image_cache is None:
            rows = self._engine(lambda api: api.images(), "listing images")
            known: set[str] = set()
            for row in rows:
                known.update(row.get("RepoTags") or ())
                known.update(row.get("RepoDigests") or ())
            self._image_cache = known
        if reference in self._image_cache:
            return True
        # Not in the pass's listing: ask precisely (Kura's exact name:tag rule).
        return bool(self._engine(lambda api: image_present(api, reference),
                                 f"looking for the image {reference}"))

    def _start_batch(self, batch: list[tuple[str, str, ContainerSpec]]) -> None:
        """Start the containers of a pass, side by side, then record each outcome in order."""
        outcomes: list[BaseException | None]
        if len(batch) == 1:
            name, cid, _ = batch[0]
            try:
                self._engine(lambda api: api.start(cid), f"starting {name}")
                outcomes = [None]
            except EngineUnavailable:
                raise
            except Exception as exc:  # noqa: BLE001 - recorded as a failed attempt below
                outcomes = [exc]
        else:
            outcomes = self._start_in_parallel(batch)
        for (name, cid, spec), failure in zip(batch, outcomes, strict=True):
            if failure is None:
                self._now_running(name, cid)
            elif _is_connection_error(failure):
                self._engine_lost(explain(failure, action=f"starting {name}"))
                return
            else:
                self._attempt_failed(name, spec, explain(
                    failure, action=f"starting the container {name}", reference=spec.reference))

    def _start_in_parallel(self, batch: list[tuple[str, str, ContainerSpec]]
                           ) -> list[BaseException | None]:
        guard.check()
        workers = min(START_WORKERS, len(batch))
        clients: queue.Queue[Any] = queue.Queue()
        for _ in range(workers):
            clients.put(self._target.api_client(timeout=60))

        def start_one(cid: str) -> BaseException | None:
            api = clients.get()
            try:
                api.start(cid)
                return None
            except Exception as exc:  # noqa: BLE001 - handed back to the reconcile thread
                return exc
            finally:
                clients.put(api)
        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="moorings-start") as pool:
                return list(pool.map(start_one, [cid for _, cid, _ in batch]))
        finally:
            while not clients.empty():
                clients.get().close()

    def _execute(self, a: Action, trigger: str) -> None:
        name = a.name
        st = self._status_or_new(name)
        if a.kind is Kind.DISABLED:
            self._cancel_pull(name)
            self._set_status(st.with_(phase=Phase.DISABLED, reason="", container_id=None,
                                      progress=None, attempt=0, next_attempt_at=None))
        elif a.kind is Kind.CONFLICT:
            self._set_status(st.with_(phase=Phase.CONFLICT, reason=a.reason,
                                      container_id=None), kind="conflict")
        elif a.kind is Kind.INVALID:
            self._set_status(st.with_(phase=Phase.FAILED, reason=a.reason))
        elif a.kind is Kind.REMOVE:
            assert a.container is not None
            self._remove(a.container, a.reason)
            self._history.add(name, "removed", f"container removed: {a.reason}")
        elif a.kind is Kind.ADOPT:
            assert a.container is not None
            if st.phase is not Phase.RUNNING or st.container_id != a.container.id:
                restarts = self._restart_count(a.container.id)
                why = "adopted the running container as it is" if trigger in (
                    "restore", "reconnect") else ""
                self._set_status(st.with_(phase=Phase.RUNNING, reason=why,
                                          container_id=a.container.id, progress=None,
                                          restart_count=restarts, next_attempt_at=None),
                                 kind="adopted" if why else "running")
            self._attempts.pop(name, None)
        elif a.kind is Kind.KEEP_STOPPED:
            assert a.container is not None
            if st.phase is not Phase.STOPPED_BY_PERSON:
                self._set_status(st.with_(
                    phase=Phase.STOPPED_BY_PERSON, container_id=a.container.id,
                    reason="stopped by a person; press Start or Apply to run it again"))
        elif a.kind is Kind.KEEP_EXITED:
            assert a.container is not None
            if st.phase not in (Phase.EXITED, Phase.RESTARTING):
                self._set_status(st.with_(phase=Phase.EXITED, container_id=a.container.id,
                                          reason="the container exited by itself"))
        elif a.kind is Kind.START:
            assert a.container is not None
            assert a.spec is not None
            if self._waiting_retry(name):
                return
            self._start(name, a.container.id, a.spec, "starting the stopped container")
        elif a.kind in (Kind.CREATE, Kind.RECREATE):
            assert a.spec is not None
            self._create_and_start(a, trigger)

    def _waiting_retry(self, name: str) -> bool:
        at = self._retry_at.get(name)
        return at is not None and at > time.time()

    def _create_and_start(self, a: Action, trigger: str) -> None:
        name, spec = a.name, a.spec
        assert spec is not None
        if self._waiting_retry(name):
            return
        task = self._pulls.get(name)
        if task is not None:
            if task.reference == spec.reference and not task.future.done():
                return  # a pull for this very image is under way; its end reconciles again
            task.cancel.set()
            self._pulls.pop(name, None)
        needs_pull = (spec.pull.always and self._pulled.get(name) != spec.reference) or \
            not self._image_present(spec.reference)
        if needs_pull:
            self._start_pull(name, spec)
            return
        if a.kind is Kind.RECREATE and a.container is not None:
            self._history.add(name, "recreate", "the configuration changed: recreating the "
                              "container")
            self._remove(a.container, "the configuration changed")
        self._set_status(self._status_or_new(name).with_(phase=Phase.STARTING,
                                                         reason="creating the container",
                                                         progress=None, next_attempt_at=None))
        try:
            cid = self._engine(lambda api: create_container(api, spec, self._store_id),
                               f"creating {name}")
        except EngineUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure here is reported, not raised
            self._attempt_failed(name, spec, explain(exc, action=f"creating the container {name}",
                                                     reference=spec.reference))
            return
        self._history.add(name, "created", f"container {cid[:12]} created from "
                          f"{spec.reference}")
        self._start(name, cid, spec, "starting the container")

    def _start(self, name: str, cid: str, spec: ContainerSpec, why: str) -> None:
        self._set_status(self._status_or_new(name).with_(phase=Phase.STARTING, reason=why,
                                                         container_id=cid, progress=None))
        if self._batch is not None:
            self._batch.append((name, cid, spec))
            return
        try:
            self._engine(lambda api: api.start(cid), f"starting {name}")
        except EngineUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure here is reported, not raised
            self._attempt_failed(name, spec, explain(exc, action=f"starting the container {name}",
                                                     reference=spec.reference))
            return
        self._now_running(name, cid)

    def _now_running(self, name: str, cid: str) -> None:
        self._attempts.pop(name, None)
        self._exited.discard(name)
        self._set_status(self._status_or_new(name).with_(
            phase=Phase.RUNNING, reason="", container_id=cid, attempt=0, max_attempts=0,
            next_attempt_at=None, exit_code=None), kind="started")

    def _attempt_failed(self, name: str, spec: ContainerSpec, sentence: str) -> None:
        """Count a failed attempt (pull, create or start) and wait, or give up and say so."""
        attempt = self._attempts.get(name, 0) + 1
        self._attempts[name] = attempt
        limit = spec.pull.attempts
        st = self._status_or_new(name)
        if limit and attempt >= limit:
            self._retry_at.pop(name, None)
            self._set_status(st.with_(
                phase=Phase.FAILED, progress=None, attempt=attempt, max_attempts=limit,
                next_attempt_at=None,
                reason=f"gave up after {attempt} attempt{'s' if attempt != 1 else ''}: "
                       f"{_period(sentence)} Fix the cause, then press Apply to try again."),
                kind="failed")
            return
        interval = spec.pull.interval_ms / 1000.0
        if not limit:
            # Unlimited attempts never loop tightly: start at the interval (at least 1 s) and
            # double up to a cap.
            base = max(interval, UNLIMITED_MIN_INTERVAL_S)
            interval = min(base * (2 ** (attempt - 1)), UNLIMITED_BACKOFF_CAP_S)
        at = time.time() + interval
        self._retry_at[name] = at
        self._schedule(time.monotonic() + interval, f"retry:{name}")
        of = f" of {limit}" if limit else ""
        self._set_status(st.with_(
            phase=Phase.RETRY_WAIT, progress=None, attempt=attempt, max_attempts=limit,
            next_attempt_at=at,
            reason=f"attempt {attempt}{of} failed: {_period(sentence)} Next attempt in "
                   f"{interval:g} s."), kind="failed attempt")

    def _start_pull(self, name: str, spec: ContainerSpec) -> None:
        gen = self._generation.get(name, 0) + 1
        self._generation[name] = gen
        cancel = threading.Event()
        target = self._target
        creds = spec.credentials.auth_config() if spec.credentials else None
        self._set_status(self._status_or_new(name).with_(
            phase=Phase.PULLING, reason=f"pulling {spec.reference}", progress=None,
            next_attempt_at=None), kind="pulling")

        def on_progress(p: PullProgress) -> None:
            st = self._status_or_new(name)
            if st.phase is Phase.PULLING:
                self._set_status(st.with_(progress=p), record=False)
            self._hub.emit(PullProgressed(name, p))

        def run() -> None:
            error: BaseException | None = None
            try:
                pull_image(target.api_client, spec.reference, creds,
                           timeout_s=float(spec.pull.timeout_s), on_progress=on_progress,
                           cancel=cancel)
            except BaseException as exc:  # noqa: BLE001 - reported to the reconcile thread, not lost here
                error = exc
            if not self._stopping.is_set():
                self._submit(lambda: self._pull_done(name, gen, spec, error), PRIORITY_ENGINE,
                             f"pull of {name} done")

        future = self._pull_pool.submit(run)
        self._pulls[name] = _PullTask(spec.reference, gen, cancel, future)

    def _pull_done(self, name: str, gen: int, spec: ContainerSpec,
                   error: BaseException | None) -> None:
        if self._generation.get(name) != gen:
            return  # superseded by a newer apply
        self._pulls.pop(name, None)
        if error is not None:
            if isinstance(error, PullError) and error.kind == "cancelled":
                return
            if isinstance(error, PullError) and error.kind == "unreachable" and \
                    self._api is not None:
                # Is it the registry or the engine that is unreachable?
                try:
                    self._api.ping()
                except Exception as exc:  # noqa: BLE001 - any failure here is reported, not raised
                    self._engine_lost(explain(exc, action="reaching the engine"))
                    return
            sentence = error.sentence if isinstance(error, EngineError) else explain(
                error, action=f"pulling {spec.reference}", reference=spec.reference)
            self._attempt_failed(name, spec, sentence)
            return
        self._pulled[name] = spec.reference
        self._history.add(name, "pulled", f"pulled {spec.reference}")
        self._reconcile(frozenset({name}), "pulled")

    def _cancel_pull(self, name: str) -> None:
        task = self._pulls.pop(name, None)
        if task is not None:
            task.cancel.set()
            self._generation[name] = self._generation.get(name, 0) + 1

    def _remove(self, c: Observed, reason: str) -> None:
        self._cancel_pull(c.instance or c.name)
        st = self._status_or_new(c.instance or c.name)
        self._set_status(st.with_(phase=Phase.REMOVING, reason=reason), record=False)
        self._expect(c.id)

        def stop_and_remove(api: Any) -> None:
            if c.running:
                try:
                    api.stop(c.id, timeout=STOP_TIMEOUT_S)
                except docker.errors.NotFound:
                    return
            try:
                api.remove_container(c.id, force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                # Someone else is removing it right now: the outcome we want.
                if "already in progress" not in str(exc.explanation or ""):
                    raise
        self._engine(stop_and_remove, f"removing {c.name}")

    def _restart_count(self, cid: str) -> int:
        try:
            info = self._engine(lambda api: api.inspect_container(cid), "inspecting")
        except EngineUnavailable:
            raise
        except Exception:  # noqa: BLE001 - any failure here is reported, not raised
            return 0
        return int(info.get("RestartCount", 0) or 0)

    def _find_ours(self, name: str) -> Observed | None:
        for c in self._observe():
            if c.name == name and c.owned_by(self._store_id):
                return c
        return None

    def _person_stop(self, name: str) -> None:
        c = self._find_ours(name)
        if c is None:
            raise EngineError(f"{name} has no container to stop.")
        self._cancel_pull(name)
        self._expect(c.id)
        self._runtime.set_stopped(name, True)
        self._engine(lambda api: api.stop(c.id, timeout=STOP_TIMEOUT_S), f"stopping {name}")
        self._set_status(self._status_or_new(name).with_(
            phase=Phase.STOPPED_BY_PERSON, container_id=c.id,
            reason="stopped by a person; press Start or Apply to run it again"),
            kind="stopped")

    # -- engine events -------------------------------------------------------------------
    def _container_event(self, raw: Mapping[str, Any]) -> ContainerEvent:
        actor = raw.get("Actor") or {}
        attrs = {str(k): str(v) for k, v in (actor.get("Attributes") or {}).items()}
        cid = str(actor.get("ID") or raw.get("id") or "")
        action = str(raw.get("Action") or raw.get("status") or "")
        ours = attrs.get(LABEL_MANAGED) == "true" and attrs.get(LABEL_STORE) == self._store_id
        stamp = raw.get("timeNano")
        when = stamp / 1e9 if isinstance(stamp, int) else time.time()
        return ContainerEvent(cid, action, attrs.get("name", ""),
                              attrs.get(LABEL_INSTANCE) if ours else None, attrs, when)

    def _on_engine_event_thread(self, raw: dict[str, Any]) -> None:
        # Published from the watcher thread at once, so that live views (the inventory) never
        # wait behind a reconcile; the orchestrator's own handling is queued.
        event = self._container_event(raw)
        self._hub.emit(event)
        self._submit(lambda: self._on_engine_event(event), PRIORITY_ENGINE, "engine event")

    def _on_engine_event(self, event: ContainerEvent) -> None:
        cid, action, cname, instance = (event.container_id, event.action, event.name,
                                        event.instance)
        attrs = event.attributes
        if instance is None:
            # A foreign container went away or appeared: a waiting conflict may be resolved.
            st = self._statuses.get(cname)
            if st is not None and st.phase is Phase.CONFLICT and action in ("destroy", "rename"):
                self._reconcile(frozenset({cname}), "event")
            return
        if not self._repo.has_instance(instance):
            return
        expected = self._is_expected(cid)
        st = self._status_or_new(instance)
        if action == "start":
            if st.phase is not Phase.STARTING:
                restarts = self._restart_count(cid)
                self._exited.discard(instance)
                kind = "restarted" if restarts > st.restart_count else "started"
                self._set_status(st.with_(phase=Phase.RUNNING, container_id=cid,
                                          restart_count=restarts, exit_code=None,
                                          reason=f"restarted by the engine after a crash "
                                                 f"(restart {restarts})" if kind == "restarted"
                                          else ""), kind=kind)
        elif action == "die" and not expected:
            code = int(attrs.get("exitCode", "0") or 0)
            self._exited.add(instance)
            spec_restart = self._restart_on_failure(instance)
            if spec_restart and code != 0:
                self._set_status(st.with_(
                    phase=Phase.RESTARTING, container_id=cid, exit_code=code,
                    reason=f"exited with code {code}; the engine restarts it (restarts so far: "
                           f"{st.restart_count})"), kind="exited")
            else:
                self._set_status(st.with_(phase=Phase.EXITED, container_id=cid, exit_code=code,
                                          reason=f"exited with code {code}"), kind="exited")
        elif action == "stop" and not expected:
            self._inferred_stops[instance] = time.monotonic()
            self._runtime.set_stopped(instance, True)
            self._set_status(st.with_(
                phase=Phase.STOPPED_BY_PERSON, container_id=cid,
                reason="stopped outside Moorings; press Start or Apply to run it again"),
                kind="stopped")
        elif action == "destroy" and not expected:
            self._history.add(instance, "removed", "the container was removed outside Moorings")
            self._reconcile(frozenset({instance}), "event")

    def _restart_on_failure(self, name: str) -> bool:
        desc = self._repo.catalog.by_pid(INSTANCE_FACTORY_PID).find_by_role("restart-on-failure")
        if desc is None or not self._repo.has_instance(name):
            return False
        return bool(self._repo.instance(name).values.get(desc.id, False))


def emit_all_statuses(orchestrator: Orchestrator, listener: Callable[[Event], None]) -> None:
    """Replay the current state to a late listener (a window opened after start)."""
    listener(orchestrator.connection())
    for status in orchestrator.statuses().values():
        listener(StateChanged(status))

"""The link to the engine: connect, lose, reconnect with capped backoff, and the event stream.

Lives on the reconcile thread: every method here is called there (the stream's reader only
hands events and its end to that thread).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from app import threadguard as guard
from app.config.repository import ConfigRepository
from app.engine.errors import EngineError, ErrorKind, explain, is_unreachable
from app.engine.gateway import Engine, EngineFactory
from app.engine.hosts import EngineTarget
from app.engine.watcher import EventWatcher
from app.metatype import SERVICE_PID
from app.orchestrator.commands import PRIORITY_ENGINE
from app.orchestrator.events import ConnectionChanged, EventHub
from app.orchestrator.loop import CommandLoop

log = logging.getLogger(__name__)
T = TypeVar("T")

RECONNECT_FIRST_S = 0.5
RECONNECT_CAP_S = 30.0


class EngineUnavailable(EngineError):
    """The engine cannot be reached now; the service keeps trying by itself."""


class EngineLink:
    """Holds the connected client and says, through ``ConnectionChanged``, how it is doing.

    ``on_connected(trigger)`` runs once connected ("restore" the first time, "reconnect"
    after, "resubscribe" when only the event stream broke); ``on_waiting(reason)`` whenever
    the engine is not there; ``on_losing()`` just before a lost engine is let go;
    ``on_event(raw)`` on the stream's thread; ``on_target(target)`` when the address is read.
    """

    def __init__(self, repo: ConfigRepository, hub: EventHub, loop: CommandLoop,
                 engines: EngineFactory, *,
                 on_connected: Callable[[str], None], on_waiting: Callable[[str], None],
                 on_losing: Callable[[], None], on_event: Callable[[dict[str, Any]], None],
                 on_target: Callable[[EngineTarget], None]) -> None:
        self._repo = repo
        self._engines = engines
        self._hub = hub
        self._loop = loop
        self._on_connected = on_connected
        self._on_waiting = on_waiting
        self._on_losing = on_losing
        self._on_event = on_event
        self._on_target = on_target
        self.connection = ConnectionChanged(False, "", "not connected yet")
        self.target = EngineTarget()
        self.api: Engine | None = None
        self._watcher: EventWatcher | None = None
        self._last_event_time: float | None = None
        self._delay = RECONNECT_FIRST_S
        self._connected_once = False

    def is_connected(self) -> bool:
        return self.api is not None

    def _service_enabled(self) -> bool:
        desc = self._repo.catalog.by_pid(SERVICE_PID).find_by_role("enabled")
        return bool(self._repo.service_values().get(desc.id, True)) if desc else True

    def connect(self) -> None:
        if self.api is not None:
            return
        service = self._repo.service_values()
        self.target = EngineTarget.from_values(self._repo.catalog.by_pid(SERVICE_PID), service)
        self._on_target(self.target)
        host = self.target.url
        if not self._service_enabled():
            self._announce(ConnectionChanged(False, host, "the orchestration service is "
                                             "disabled in its settings"))
            self._on_waiting(self.connection.reason)
            return
        try:
            api = self._engines(self.target)
            api.ping()
        except Exception as exc:  # noqa: BLE001 - any failure here is reported, not raised
            reason = explain(exc, action=f"connecting to the engine at {host}")
            first = self.connection.connected or self.connection.reason != reason
            self.connection = ConnectionChanged(False, host, reason)
            if first:
                log.warning("engine not reachable: %s", reason)
                self._hub.emit(self.connection)
            self._on_waiting(reason)
            self._loop.schedule(self._delay, "reconnect", self.connect)
            self._delay = min(self._delay * 2, RECONNECT_CAP_S)
            return
        self.api = api
        self._delay = RECONNECT_FIRST_S
        version = api.api_version
        log.info("connected to the engine at %s (API %s)", host, version)
        self._announce(ConnectionChanged(True, host, "", version))
        self._start_watcher()
        trigger = "reconnect" if self._connected_once else "restore"
        self._connected_once = True
        self._on_connected(trigger)

    def _announce(self, connection: ConnectionChanged) -> None:
        self.connection = connection
        self._hub.emit(connection)

    def _start_watcher(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        assert self.api is not None
        self._watcher = self.api.watch(self._on_event, self._stream_lost_thread,
                                       self._last_event_time)
        self._watcher.start()

    def close(self) -> None:
        """Stop the event stream and close the client (the connection state is left as is)."""
        if self._watcher is not None:
            self._last_event_time = self._watcher.last_time
            self._watcher.stop()
            self._watcher = None
        if self.api is not None:
            self.api.close()
            self.api = None

    def disconnect(self, reason: str) -> None:
        self.close()
        self._announce(ConnectionChanged(False, self.target.url, reason))
        self._on_waiting(reason)

    def lost(self, reason: str) -> None:
        """The engine went away: say so, and keep trying with capped backoff."""
        if self.api is None:
            return
        log.warning("lost the engine: %s", reason)
        self._on_losing()
        self.disconnect(reason)
        self._delay = RECONNECT_FIRST_S
        self._loop.schedule(self._delay, "reconnect", self.connect)

    def _stream_lost_thread(self, reason: str) -> None:
        self._loop.submit(lambda: self._check(reason), PRIORITY_ENGINE, "stream lost")

    def _check(self, reason: str) -> None:
        if self.api is None:
            return
        try:
            self.api.ping()
        except Exception as exc:  # noqa: BLE001 - any failure here is reported, not raised
            self.lost(explain(exc, action=f"reaching the engine at {self.target.url}"))
            return
        # The engine answers: the stream broke on its own; subscribe again, replaying the gap.
        if self._watcher is not None:
            self._last_event_time = self._watcher.last_time
        self._start_watcher()
        self._on_connected("resubscribe")

    def call(self, fn: Callable[[Engine], T], label: str) -> T:
        """Call the engine on this thread; a lost connection becomes EngineUnavailable."""
        guard.check()
        if self.api is None:
            raise EngineUnavailable(f"{label} cannot be done now: "
                                    f"{self.connection.reason or 'the engine is not connected'}.")
        try:
            return fn(self.api)
        except Exception as exc:
            if is_unreachable(exc):
                sentence = exc.sentence if isinstance(exc, EngineError) else explain(
                    exc, action=label)
                self.lost(sentence)
                raise EngineUnavailable(sentence, ErrorKind.UNREACHABLE) from exc
            raise

    def lost_if_unreachable(self, error: BaseException, doing: str) -> bool:
        """If ``error`` says the engine is gone, handle it as lost; whether it did."""
        if not is_unreachable(error):
            return False
        self.lost(error.sentence if isinstance(error, EngineError) else explain(
            error, action=doing))
        return True

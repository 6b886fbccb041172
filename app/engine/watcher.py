"""The engine's event stream, read on its own thread with its own client."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from app.engine.errors import explain
from app.engine.hosts import EngineTarget

log = logging.getLogger(__name__)

EventCallback = Callable[[dict[str, Any]], None]
LostCallback = Callable[[str], None]


class EventWatcher:
    """Delivers container events as they happen; reports once when the stream breaks.

    The stream gets a client of its own with no read timeout: the shared client's timeout
    would end a quiet stream. ``since`` replays what happened while we were away.
    """

    def __init__(self, target: EngineTarget, on_event: EventCallback, on_lost: LostCallback,
                 since: float | None = None) -> None:
        self._target = target
        self._on_event = on_event
        self._on_lost = on_lost
        self._since = since
        self._stopping = threading.Event()
        self._stream: Any = None
        self._api: Any = None
        self._thread = threading.Thread(target=self._run, name="moorings-engine-events",
                                        daemon=True)
        self.last_time: float = since or time.time()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        stream = self._stream
        if stream is not None:
            try:
                stream.close()
            except Exception:  # closing a broken stream may raise anything; it is gone anyway
                log.debug("closing the event stream failed", exc_info=True)
        api = self._api
        if api is not None:
            try:
                api.close()
            except Exception:
                log.debug("closing the event client failed", exc_info=True)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        reason = "the engine's event stream ended"
        try:
            api = self._target.api_client(timeout=None)
            self._api = api
            if self._stopping.is_set():  # stop() came while the client was being built
                api.close()
                return
            kwargs: dict[str, Any] = {"decode": True, "filters": {"type": ["container"]}}
            if self._since is not None:
                kwargs["since"] = int(self._since)
            self._stream = self._api.events(**kwargs)
            for event in self._stream:
                if self._stopping.is_set():
                    return
                stamp = event.get("timeNano")
                if isinstance(stamp, int):
                    self.last_time = stamp / 1e9
                self._on_event(event)
        except Exception as exc:  # noqa: BLE001 - any failure of the stream means: reconnect
            reason = explain(exc, action="following the engine's events",
                             engine=self._target.url)
        if not self._stopping.is_set():
            self._on_lost(reason)

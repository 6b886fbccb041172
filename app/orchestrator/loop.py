"""The reconcile thread's loop: commands one at a time by priority, named timers, and a drain
when it stops (every pending caller hears "stopped", none waits forever)."""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from app.engine.errors import EngineError
from app.errors import ConfigError
from app.orchestrator.commands import PRIORITY_SHUTDOWN, Command

log = logging.getLogger(__name__)


class Later:
    """A command's result that comes after the command returns (once some steps are done)."""

    def __init__(self, future: Future[Any]) -> None:
        self.future = future


def chain(source: Future[Any], target: Future[Any]) -> None:
    """Settle ``target`` as ``source`` settles."""
    def copy(done: Future[Any]) -> None:
        if target.done():
            return
        error = done.exception()
        if error is not None:
            target.set_exception(error)
        else:
            target.set_result(done.result())
    source.add_done_callback(copy)


def stopped_error() -> EngineError:
    return EngineError("the orchestrator has stopped")


class CommandLoop:
    """Runs submitted commands on one thread, a person's before routine ones, and timers.

    A command's function may return :class:`Later`: its caller's future then settles when that
    one does. Timers are keyed: scheduling a key that is already due fires it once.
    """

    def __init__(self, name: str, on_exit: Callable[[], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._queue: queue.PriorityQueue[Command] = queue.PriorityQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._timers: list[tuple[float, int, str, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._on_exit = on_exit
        # The loop's clock, for its timers and the rooms' time-outs (a test may pass its own).
        self.clock = clock
        self.stopping = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Stop after the command under way; pending commands fail with "stopped"."""
        self.stopping.set()
        self._queue.put(Command(lambda: None, PRIORITY_SHUTDOWN, "shutdown"))
        if self._thread.is_alive():
            self._thread.join(timeout)

    def submit(self, fn: Callable[[], Any], priority: int, label: str) -> Future[Any]:
        cmd = Command(fn, priority, label)
        if self.stopping.is_set():
            cmd.future.set_exception(stopped_error())
            return cmd.future
        self._queue.put(cmd)
        return cmd.future

    def schedule(self, delay_s: float, key: str, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop's thread after ``delay_s`` (call this on that thread)."""
        heapq.heappush(self._timers, (self.clock() + delay_s, next(self._seq), key, fn))

    def _run(self) -> None:
        while not self.stopping.is_set():
            timeout = None
            if self._timers:
                timeout = max(0.0, self._timers[0][0] - self.clock())
            try:
                cmd = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._fire_timers()
                continue
            if self.stopping.is_set():
                cmd.future.set_exception(stopped_error())
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
                if isinstance(result, Later):
                    chain(result.future, cmd.future)
                else:
                    cmd.future.set_result(result)
            self._fire_timers()
        try:
            self._on_exit()
        finally:
            self._drain()

    def _fire_timers(self) -> None:
        now = self.clock()
        due: dict[str, Callable[[], None]] = {}
        while self._timers and self._timers[0][0] <= now:
            _, _, key, fn = heapq.heappop(self._timers)
            due.setdefault(key, fn)
        for key, fn in due.items():
            try:
                fn()
            except Exception:
                log.exception("timer %s failed", key)

    def _drain(self) -> None:
        while True:
            try:
                pending = self._queue.get_nowait()
            except queue.Empty:
                break
            if not pending.future.done():
                pending.future.set_exception(stopped_error())

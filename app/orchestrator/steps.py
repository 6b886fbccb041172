"""Container steps that wait on the engine (create and start, stop, remove, restart) run here,
side by side, so that the reconcile thread never waits behind them: a person's request is served
while 150 containers take their stop timeout."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

ClientFactory = Callable[[], Any]


class StepPool:
    """Workers that each hold their own engine client (a client is confined to one thread).

    ``submit(fn, done)`` runs ``fn(api)`` on a worker and then ``done(result, error)`` on that
    worker; ``done`` hands the outcome back to the reconcile thread.
    """

    def __init__(self, name: str, workers: int, clients: ClientFactory) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._factory = clients
        self._epoch = 0
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[Any] = []
        self._closed = False

    def reset_clients(self) -> None:
        """New steps open new clients (the engine's address changed); old ones are closed as
        their threads take the next step."""
        with self._lock:
            self._epoch += 1

    def submit(self, fn: Callable[[Any], T], done: Callable[[T | None, BaseException | None],
                                                            None]) -> None:
        def work() -> None:
            result: T | None = None
            error: BaseException | None = None
            try:
                result = fn(self._client())
            except BaseException as exc:  # noqa: BLE001 - handed to the reconcile thread
                error = exc
            try:
                done(result, error)
            except Exception:
                log.exception("handing a step's outcome back failed")
        with self._lock:
            if self._closed:
                return
            self._pool.submit(work)

    def _client(self) -> Any:
        with self._lock:
            epoch, factory = self._epoch, self._factory
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == epoch:
            return held[1]
        if held is not None:
            self._close(held[1])
        client = factory()
        self._local.held = (epoch, client)
        with self._lock:
            self._open.append(client)
        return client

    def _close(self, client: Any) -> None:
        with self._lock:
            if client in self._open:
                self._open.remove(client)
        try:
            client.close()
        except Exception:
            log.debug("closing a step client failed", exc_info=True)

    def shutdown(self) -> None:
        """Drop the steps not yet begun and close every client (steps under way end with an
        error or finish in the engine; the next start of Moorings reconciles either way)."""
        with self._lock:
            self._closed = True
            clients, self._open = self._open, []
        self._pool.shutdown(wait=False, cancel_futures=True)
        for client in clients:
            try:
                client.close()
            except Exception:
                log.debug("closing a step client failed", exc_info=True)

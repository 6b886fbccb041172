"""Each instance's run state on the reconcile thread: attempts, backoff, its pull, its step in
flight, and whether it gave up; one record per instance, reset by a person and forgotten with it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PullTask:
    """A pull under way on a pull worker; ``generation`` tells a superseded one's end apart."""

    reference: str
    generation: int
    cancel: threading.Event
    future: Future[None]


@dataclass
class Run:
    """What the reconcile thread knows about one instance beyond its stored configuration.

    Touched only on the reconcile thread.
    """

    attempts: int = 0
    retry_at: float | None = None  # the loop clock's time of the next attempt while waiting
    # The reason it gave up. While set, no pass tries again (a wrong password would keep
    # hitting the registry); only a person's Apply, Start or Retry, or a change of its stored
    # configuration, clears it.
    given_up: str | None = None
    exited: bool = False  # exited by itself since we started it: not restarted by a pass
    pulled: str | None = None  # the reference pulled since the last reset (pull-always)
    verified: str | None = None  # the manifest digest verified with that pull (signed images)
    pull: PullTask | None = None
    generation: int = 0
    inferred_stop: float | None = None  # monotonic time of a stop seen only as an event
    step: str | None = None  # a container step in flight (starting, removing, stopping...)
    step_error: BaseException | None = None  # how the last step ended
    replan: bool = False  # a pass skipped it while a step was in flight: plan it once it ends
    # A person's requests that settle once the instance's steps are done: each future gets
    # what its callable returns (or raises), on the reconcile thread.
    waiters: list[tuple[Future[Any], Callable[[], Any]]] = field(default_factory=list)

    def cancel_pull(self) -> None:
        if self.pull is not None:
            self.pull.cancel.set()
            self.pull = None
            self.generation += 1

    def reset(self) -> None:
        """A person's apply, start or retry, or a new configuration: a fresh run."""
        self.attempts = 0
        self.retry_at = None
        self.given_up = None
        self.exited = False
        self.pulled = None
        self.verified = None
        self.inferred_stop = None

    def settle(self) -> None:
        """Settle every waiting request with what its callable gives."""
        from app.orchestrator.loop import Later, chain

        waiters, self.waiters = self.waiters, []
        for future, then in waiters:
            if future.done():
                continue
            try:
                result = then()
            except Exception as exc:  # noqa: BLE001 - the request's own failure, for its caller
                future.set_exception(exc)
                continue
            # A request that starts steps of its own (a stop queued behind a start) settles
            # when those are done.
            if isinstance(result, Later):
                chain(result.future, future)
            else:
                future.set_result(result)

    def abandon(self, error: BaseException) -> None:
        """Fail every waiting request (the orchestrator is stopping)."""
        waiters, self.waiters = self.waiters, []
        for future, _ in waiters:
            if not future.done():
                future.set_exception(error)


class Runs:
    """The run records by instance name."""

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}

    def __getitem__(self, name: str) -> Run:
        run = self._runs.get(name)
        if run is None:
            run = self._runs[name] = Run()
        return run

    def get(self, name: str) -> Run | None:
        return self._runs.get(name)

    def items(self) -> list[tuple[str, Run]]:
        return list(self._runs.items())

    def once_settled(self, name: str, then: Callable[[], Any]) -> Any:
        """``then()`` now if the instance has no step in flight, else a :class:`Later` that
        settles with it once its steps are done (a request's reply waits for its steps)."""
        from app.orchestrator.loop import Later

        run = self._runs.get(name)
        if run is None or run.step is None:
            return then()
        future: Future[Any] = Future()
        run.waiters.append((future, then))
        return Later(future)

    def forget(self, name: str) -> None:
        """The instance is gone: cancel its pull and drop its record (waiters are settled)."""
        run = self._runs.pop(name, None)
        if run is not None:
            run.cancel_pull()
            run.settle()

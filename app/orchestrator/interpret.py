"""What the engine's container events mean for our instances: a crash, an exit, a stop outside
Moorings, a removal, or the echo of our own step (expected ids)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from app.config.repository import ConfigRepository
from app.engine.labels import LABEL_INSTANCE, is_ours
from app.metatype import INSTANCE_FACTORY_PID
from app.orchestrator.board import StatusBoard
from app.orchestrator.commands import PRIORITY_ENGINE
from app.orchestrator.events import ContainerEvent, EventHub
from app.orchestrator.loop import CommandLoop
from app.orchestrator.runs import Runs
from app.orchestrator.runtime import RuntimeState
from app.orchestrator.state import Phase

EXPECTED_EVENT_WINDOW_S = 60.0
# An engine's shutdown stops containers for up to its stop timeout before the stream ends.
SHUTDOWN_STOP_WINDOW_S = 60.0

Reconcile = Callable[[frozenset[str] | None, str], None]
InspectRun = Callable[[str], tuple[int, float | None]]


class EventInterpreter:
    """Turns engine events into instance states; our own stops and removals are announced with
    :meth:`expect` so that their events are not taken for a person's or a crash."""

    def __init__(self, store_id: str, repo: ConfigRepository, hub: EventHub, loop: CommandLoop,
                 board: StatusBoard, runs: Runs, runtime: RuntimeState, *,
                 reconcile: Reconcile, inspect_run: InspectRun) -> None:
        self._store_id = store_id
        self._repo = repo
        self._hub = hub
        self._loop = loop
        self._board = board
        self._runs = runs
        self._runtime = runtime
        self._reconcile = reconcile
        self._inspect_run = inspect_run
        self._expected: dict[str, float] = {}

    def expect(self, container_id: str) -> None:
        """Our own stop/remove is coming: its events are not a person's or a crash."""
        self._expected[container_id] = self._loop.clock() + EXPECTED_EVENT_WINDOW_S

    def _is_expected(self, container_id: str) -> bool:
        now = self._loop.clock()
        for cid, until in list(self._expected.items()):
            if until < now:
                del self._expected[cid]
        return container_id in self._expected

    def event(self, raw: Mapping[str, Any]) -> ContainerEvent:
        actor = raw.get("Actor") or {}
        attrs = {str(k): str(v) for k, v in (actor.get("Attributes") or {}).items()}
        cid = str(actor.get("ID") or raw.get("id") or "")
        action = str(raw.get("Action") or raw.get("status") or "")
        stamp = raw.get("timeNano")
        when = stamp / 1e9 if isinstance(stamp, int) else time.time()
        instance = attrs.get(LABEL_INSTANCE) if is_ours(attrs, self._store_id) else None
        return ContainerEvent(cid, action, attrs.get("name", ""), instance, attrs, when)

    def on_event_thread(self, raw: dict[str, Any]) -> None:
        # Published from the watcher thread at once, so that live views (the inventory) never
        # wait behind a reconcile; the orchestrator's own handling is queued.
        event = self.event(raw)
        self._hub.emit(event)
        self._loop.submit(lambda: self.handle(event), PRIORITY_ENGINE, "engine event")

    def handle(self, event: ContainerEvent) -> None:
        cid, action, instance = event.container_id, event.action, event.instance
        if instance is None:
            # A foreign container went away or appeared: a waiting conflict may be resolved.
            st = self._board.get(event.name)
            if st is not None and st.phase is Phase.CONFLICT and action in ("destroy", "rename"):
                self._reconcile(frozenset({event.name}), "event")
            return
        if not self._repo.has_instance(instance):
            return
        expected = self._is_expected(cid)
        run = self._runs[instance]
        st = self._board.or_new(instance)
        if action == "start":
            # The echo of our own start (a step still settling, or settled as running on this
            # very container) needs no inspect: only a start we did not make is looked at.
            echo = st.phase is Phase.STARTING or (st.phase is Phase.RUNNING
                                                  and st.container_id == cid)
            if not echo:
                restarts, started = self._inspect_run(cid)
                run.exited = False
                entry = "restarted" if restarts > st.restart_count else "started"
                self._board.set(st.with_(
                    phase=Phase.RUNNING, container_id=cid, restart_count=restarts,
                    exit_code=None, started_at=started or event.time,
                    reason=f"restarted by the engine after a crash (restart {restarts})"
                    if entry == "restarted" else ""), entry=entry)
        elif action == "die" and not expected:
            code = int(event.attributes.get("exitCode", "0") or 0)
            run.exited = True
            if self._restart_on_failure(instance) and code != 0:
                self._board.set(st.with_(
                    phase=Phase.RESTARTING, container_id=cid, exit_code=code,
                    reason=f"exited with code {code}; the engine restarts it (restarts so far: "
                           f"{st.restart_count})"), entry="exited")
            else:
                self._board.set(st.with_(phase=Phase.EXITED, container_id=cid, exit_code=code,
                                         reason=f"exited with code {code}"), entry="exited")
        elif action == "stop" and not expected:
            run.inferred_stop = self._loop.clock()
            self._runtime.set_stopped(instance, True)
            self._board.set(st.with_(
                phase=Phase.STOPPED_BY_PERSON, container_id=cid, started_at=None,
                reason="stopped outside Moorings; press Start or Apply to run it again"),
                entry="stopped")
        elif action == "destroy" and not expected:
            self._board.note(instance, "removed", "the container was removed outside Moorings")
            self._reconcile(frozenset({instance}), "event")
        elif action == "rename" and event.name != instance:
            # A pass over one instance sees only the containers of its name: the renamed one
            # is found by a pass over all (which replaces it, as any stale container of ours).
            self._board.note(instance, "renamed", f"the container was renamed to {event.name} "
                             "outside Moorings; one under the instance's name replaces it")
            self._reconcile(None, "event")

    def revoke_shutdown_stops(self) -> None:
        """An engine that shuts down stops its containers and reports each as a plain stop,
        just as ``docker stop`` would. Stops seen just before the engine went away were the
        engine's, not a person's: they must not keep the containers stopped afterwards."""
        now = self._loop.clock()
        for name, run in self._runs.items():
            when, run.inferred_stop = run.inferred_stop, None
            if when is not None and now - when <= SHUTDOWN_STOP_WINDOW_S:
                self._runtime.set_stopped(name, False)
                self._board.note(name, "engine stop", "the engine stopped the container while "
                                 "shutting down; it will be started again")

    def _restart_on_failure(self, name: str) -> bool:
        desc = self._repo.catalog.by_pid(INSTANCE_FACTORY_PID).find_by_role("restart-on-failure")
        if desc is None or not self._repo.has_instance(name):
            return False
        return bool(self._repo.instance(name).values.get(desc.id, False))

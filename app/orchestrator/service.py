"""The orchestration service: the public face of the orchestrator, and where its rooms are built.

Every public method returns at once (a Future or a snapshot). One reconcile thread plans and
dispatches (loop.py, reconcile.py); what waits on the engine runs on step and pull workers
(executor.py, pulls.py, steps.py); the board alone publishes states (board.py); the link owns the
connection (link.py); engine events are interpreted in interpret.py; another program's saves are
noticed by config_watch.py; a person's import and export are in transfers.py. Listeners
receive typed events on those threads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from app.config.model import Scalar
from app.config.repository import Changes, ConfigRepository, InstanceConfig
from app.engine.errors import EngineError, engine_error
from app.engine.gateway import Engine, EngineFactory, open_engine
from app.engine.hosts import EngineTarget
from app.engine.progress import PullProgress
from app.metatype import INSTANCE_FACTORY_PID
from app.orchestrator.board import StatusBoard
from app.orchestrator.commands import PRIORITY_API, PRIORITY_PERSON
from app.orchestrator.config_watch import ConfigWatcher
from app.orchestrator.context import Context
from app.orchestrator.enforcement import Enforcement, Offender
from app.orchestrator.events import (
    ConnectionChanged,
    EventHub,
    Listener,
)
from app.orchestrator.history import History, HistoryEntry
from app.orchestrator.interpret import EventInterpreter
from app.orchestrator.link import EngineLink
from app.orchestrator.loop import CommandLoop, stopped_error
from app.orchestrator.outside import apply_outside_changes
from app.orchestrator.reconcile import Reconciler, derive_spec
from app.orchestrator.runs import Runs
from app.orchestrator.runtime import RuntimeState, store_id
from app.orchestrator.state import EnforcementStatus, InstanceStatus
from app.orchestrator.steps import StepPool
from app.orchestrator.transfers import Transfers

log = logging.getLogger(__name__)
T = TypeVar("T")

# Starts keep the engine's CPU busy (a quarter of a second each): a few side by side. Stops
# and removals mostly wait for a process to end (up to the stop timeout): many side by side.
START_WORKERS = 4
REMOVE_WORKERS = 16
PULL_WORKERS = 2


class Orchestrator:
    """Reconciles desired state (the repository) against observed state (labelled containers).

    One reconcile at a time, on one thread; a person's requests are served before routine
    passes. ``engines`` opens a connection to an engine and ``clock`` tells the time of the
    timers and time-outs (both injectable: the fake-engine tests).
    """

    def __init__(self, repo: ConfigRepository, *, periodic_interval_s: float = 30.0,
                 store_folder: Path | None = None, config_poll_s: float = 1.0,
                 engines: EngineFactory = open_engine,
                 clock: Callable[[], float] = time.monotonic) -> None:
        folder = store_folder or repo.store.folder
        hub = EventHub()
        board = StatusBoard(hub, History(folder, repo.instance_names()))
        runs = Runs()
        runtime = RuntimeState(folder)
        loop = CommandLoop("moorings-reconcile", self._on_loop_exit, clock)
        link = EngineLink(repo, hub, loop, engines, on_connected=self._on_connected,
                          on_waiting=lambda reason: self._reconciler.mark_waiting(reason),
                          on_losing=lambda: self._ctx.events.revoke_shutdown_stops(),
                          on_event=self._on_event_thread,
                          on_target=self._on_target)
        sid = store_id(folder)
        events = EventInterpreter(
            sid, repo, hub, loop, board, runs, runtime,
            reconcile=lambda only, trigger: self._reconciler.reconcile(only, trigger),
            inspect_run=lambda cid: self._reconciler.executor.inspect_run(cid))
        self._ctx = Context(
            repo=repo, store_id=sid, hub=hub, board=board, runs=runs, runtime=runtime,
            loop=loop, link=link, events=events,
            starts=StepPool("moorings-start", START_WORKERS, lambda: self._ctx.open_engine()),
            removals=StepPool("moorings-remove", REMOVE_WORKERS,
                              lambda: self._ctx.open_engine()),
            pulls=ThreadPoolExecutor(max_workers=PULL_WORKERS, thread_name_prefix="moorings-pull"),
            engines=engines)
        self._enforcement = Enforcement(self._ctx)
        self._ctx.enforcement = self._enforcement
        repo.derive_with(derive_spec(repo.catalog))  # each instance's spec, once per change
        self._reconciler = Reconciler(self._ctx)
        self._executor = self._reconciler.executor
        self._periodic_s = periodic_interval_s
        self._config_watch = ConfigWatcher(repo, self._on_config_changed_thread, config_poll_s)
        self._transfers = Transfers(self._ctx, self._reconciler, self._submit)
        self._started = False

    # ------------------------------------------------------------------ public, any thread
    @property
    def repository(self) -> ConfigRepository:
        return self._ctx.repo

    @property
    def transfers(self) -> Transfers:
        """A person's configuration files: import with a preview, export."""
        return self._transfers

    @property
    def store_id(self) -> str:
        return self._ctx.store_id

    def add_listener(self, listener: Listener) -> None:
        self._ctx.hub.add(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._ctx.hub.remove(listener)

    def connection(self) -> ConnectionChanged:
        return self._ctx.link.connection

    def target(self) -> EngineTarget:
        """How the engine is reached now (changes when the service settings change)."""
        return self._ctx.link.target

    def status(self, name: str) -> InstanceStatus | None:
        return self._ctx.board.get(name)

    def statuses(self) -> dict[str, InstanceStatus]:
        return self._ctx.board.all()

    def history(self, name: str) -> list[HistoryEntry]:
        return self._ctx.board.history.entries(name)

    def enforcement(self) -> EnforcementStatus:
        """The allowlist enforcement's state now (see also EnforcementChanged events)."""
        return self._enforcement.status()

    def check_create(self, engine: Engine, reference: str) -> None:
        """Raise EnforcementRefused unless enforcement lets ``reference`` run (any caller)."""
        self._enforcement.check_create(engine, reference)

    def enforcement_preview(self, allowlist: str | None = None) -> Future[list[Offender]]:
        """The running containers enforcement would stop with ``allowlist`` (the stored one
        by default), to confirm with a person before it is switched on. Fails with
        EngineError, or SyntaxProblem for an allowlist that cannot be read."""
        return self._submit(lambda: self._enforcement.preview(allowlist), PRIORITY_PERSON,
                            "enforcement preview")

    def start(self) -> None:
        """Start the threads; the first pass restores every enabled instance."""
        if self._started:
            return
        self._started = True
        for name in self._ctx.repo.instance_names():
            self._ctx.board.set(self._ctx.initial_status(name), record=False)
        self._ctx.loop.start()
        self._config_watch.start()
        self._submit(self._first_connect, PRIORITY_PERSON, "connect")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the service's threads and leave every container as it is."""
        ctx = self._ctx
        if not self._started or ctx.loop.stopping.is_set():
            return
        self._config_watch.stop()
        for _, run in ctx.runs.items():
            if run.pull is not None:
                run.pull.cancel.set()
        ctx.loop.stop(timeout)
        ctx.pulls.shutdown(wait=False, cancel_futures=True)
        self._transfers.shutdown()
        ctx.starts.shutdown()
        ctx.removals.shutdown()
        for _, run in ctx.runs.items():
            run.abandon(stopped_error())
        ctx.link.target.end_ssh_children()  # also those of a call still blocked on the engine

    # Requests. Each returns a Future settled once the request's steps are done.
    def reconcile(self, names: list[str] | None = None) -> Future[None]:
        only = frozenset(names) if names is not None else None
        return self._submit(lambda: self._reconciler.reconcile(only, "request"),
                            PRIORITY_PERSON, "reconcile")

    def create_instance(self, name: str, values: Mapping[str, object] | None = None,
                        factory: str = INSTANCE_FACTORY_PID) -> Future[InstanceConfig]:
        def run() -> Any:
            inst = self._ctx.repo.create_instance(name, factory, values)
            self._ctx.added(name, "the instance was created")
            return self._fresh_run(name, lambda: inst)
        return self._submit(run, PRIORITY_PERSON, f"create {name}")

    def apply(self, name: str, values: Mapping[str, object] | None = None
              ) -> Future[InstanceConfig]:
        """Validate and store ``values`` (if given), then make the engine match.

        An invalid configuration raises ConfigError in the future and changes nothing.
        """
        def run() -> Any:
            repo = self._ctx.repo
            if values is not None:
                given = dict(values)
                # The verified digest is Moorings' to write: a form's copy of it may be stale.
                for fid in repo.system_written(name):
                    given.pop(fid, None)
            inst = repo.update_instance(name, given) if values is not None \
                else repo.instance(name)
            self._ctx.board.note(name, "applied", "the configuration was applied")
            return self._fresh_run(name, lambda: inst)
        return self._submit(run, PRIORITY_PERSON, f"apply {name}")

    def delete_instance(self, name: str) -> Future[None]:
        """Remove the instance's container (if ours) and then its configuration."""
        def run() -> Any:
            self._ctx.repo.delete_instance(name)
            self._ctx.runs[name].cancel_pull()
            self._ctx.runtime.set_stopped(name, False)
            self._reconciler.reconcile(frozenset({name}), "delete")
            return self._ctx.runs.once_settled(name, lambda: self._executor.forget_if_gone(name))
        return self._submit(run, PRIORITY_PERSON, f"delete {name}")

    def update_service(self, values: Mapping[str, object]) -> Future[dict[str, Scalar]]:
        """Store the service settings; a new host or TLS setting reconnects and reconciles."""
        def run() -> dict[str, Scalar]:
            stored = self._ctx.repo.update_service(values)
            self._ctx.link.disconnect("the engine settings changed")
            self._ctx.link.connect()
            return stored
        return self._submit(run, PRIORITY_PERSON, "update service")

    def stop_container(self, name: str) -> Future[None]:
        """A person's stop: the container stays stopped until they start it or apply again."""
        return self._submit(lambda: self._executor.person_stop(name), PRIORITY_PERSON,
                            f"stop {name}")

    def start_container(self, name: str) -> Future[None]:
        def run() -> Any:
            self._ctx.board.note(name, "start", "a person asked to start the container")
            return self._fresh_run(name, lambda: None)
        return self._submit(run, PRIORITY_PERSON, f"start {name}")

    def retry_instance(self, name: str) -> Future[None]:
        """A person's Retry after the instance gave up: fresh attempts with the stored values."""
        def run() -> Any:
            self._ctx.board.note(name, "retry", "a person asked to try again")
            return self._fresh_run(name, lambda: None)
        return self._submit(run, PRIORITY_PERSON, f"retry {name}")

    def restart_container(self, name: str) -> Future[None]:
        return self._submit(lambda: self._executor.person_restart(name), PRIORITY_PERSON,
                            f"restart {name}")

    def run_pull(self, reference: str, auth: dict[str, str] | None, timeout_s: float,
                 on_progress: Callable[[PullProgress], None] | None, *,
                 always: bool = False) -> Future[None]:
        """Pull ``reference`` on a pull thread (skipped when present, unless ``always``)."""
        target, engines = self._ctx.link.target, self._ctx.engines

        def run() -> None:
            engine = engines(target)
            try:
                if not always and engine.image_present(reference):
                    return
                engine.pull(reference, auth, timeout_s=timeout_s, on_progress=on_progress)
            finally:
                engine.close()
        return self._ctx.pulls.submit(run)

    def call_engine(self, fn: Callable[[Engine], T], label: str = "engine call") -> Future[T]:
        """Run ``fn(engine)`` on the reconcile thread with the connected engine.

        Engine failures reach the future as EngineError with a sentence for a person.
        """
        def run() -> T:
            try:
                return self._ctx.link.call(fn, label)
            except EngineError:
                raise
            except Exception as exc:
                raise engine_error(exc, action=label, engine=self._ctx.link.target.url) from exc
        return self._submit(run, PRIORITY_API, label)

    # ------------------------------------------------------------------ reconcile thread
    def _submit(self, fn: Callable[[], Any], priority: int, label: str) -> Future[Any]:
        return self._ctx.loop.submit(fn, priority, label)

    def _on_loop_exit(self) -> None:
        self._ctx.link.close()

    def _first_connect(self) -> None:
        self._schedule_periodic()
        self._ctx.link.connect()

    def _schedule_periodic(self) -> None:
        def periodic() -> None:
            self._schedule_periodic()
            if self._ctx.link.is_connected():
                self._enforcement.retry_if_failing()
            self._reconciler.reconcile(None, "periodic")
        self._ctx.loop.schedule(self._periodic_s, "periodic", periodic)

    def _on_target(self, target: EngineTarget) -> None:
        # New steps and pulls go to the engine the settings now name.
        # (An unsafe connection is warned about once, by EngineTarget.api_client.)
        self._ctx.starts.reset_clients()
        self._ctx.removals.reset_clients()

    def _on_connected(self, trigger: str) -> None:
        ctx = self._ctx
        if trigger != "resubscribe":
            # An engine that went away took its containers down with it: that is not their
            # own exit, so bring them back.
            for _, run in ctx.runs.items():
                run.exited = False
            host = ctx.link.target.url
            for name in ctx.repo.instance_names():
                ctx.board.note(name, trigger, "connected to the engine at " + host
                               if trigger == "reconnect" else "restoring at launch")
        # Enforcement looks at every running container before any new one is created.
        self._enforcement.sweep(trigger)
        self._reconciler.reconcile(None, "reconnect" if trigger == "resubscribe" else trigger)
        if trigger == "restore":
            ctx.runtime.set_loaded(ctx.repo.revision)

    def _fresh_run(self, name: str, then: Callable[[], Any]) -> Any:
        """A person's apply, start or retry: fresh attempts, a stop no longer held, a pass."""
        self._ctx.fresh_start(name)
        self._reconciler.reconcile(frozenset({name}), "apply")
        return self._ctx.runs.once_settled(name, then)

    def _on_event_thread(self, raw: dict[str, Any]) -> None:
        self._ctx.events.on_event_thread(raw)
        self._enforcement.on_event_thread(raw)

    # -- another program saved the configuration -------------------------------------------
    def _on_config_changed_thread(self, changes: Changes) -> None:
        self._submit(lambda: apply_outside_changes(self._ctx, self._reconciler, changes),
                     PRIORITY_PERSON, "configuration changed on disk")

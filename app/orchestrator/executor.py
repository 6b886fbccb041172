"""The step executors: what each of the planner's kinds does to the engine, the container steps
run on the step workers, and the attempts (retry with backoff, or give up and say why)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from app.engine.errors import EngineError, engine_error, explain
from app.engine.gateway import STOP_TIMEOUT_S, Engine, gone
from app.engine.spec import ContainerSpec
from app.engine.times import parse_rfc3339
from app.orchestrator.commands import PRIORITY_ENGINE
from app.orchestrator.context import Context
from app.orchestrator.enforcement import EnforcementRefused
from app.orchestrator.events import ContainerBlocked, InstanceRemoved
from app.orchestrator.link import EngineUnavailable
from app.orchestrator.planner import Action, Kind, Observed
from app.orchestrator.pulls import Pulls
from app.orchestrator.runs import Run
from app.orchestrator.signed import pinned
from app.orchestrator.state import Phase
from app.orchestrator.steps import StepPool

T = TypeVar("T")

UNLIMITED_BACKOFF_CAP_S = 600.0
UNLIMITED_MIN_INTERVAL_S = 1.0

Reconcile = Callable[[frozenset[str] | None, str], None]


def _period(sentence: str) -> str:
    sentence = sentence.strip()
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


class StepExecutor:
    """Carries out the planner's actions, one handler per kind. Runs on the reconcile thread;
    the container steps themselves run on the step workers and come back here."""

    def __init__(self, ctx: Context, reconcile: Reconcile) -> None:
        self._ctx = ctx
        self._reconcile = reconcile
        self.pulls = Pulls(ctx, reconcile, self.attempt_failed, ctx.open_engine)
        self._handlers: dict[Kind, Callable[[Action, str], None]] = {
            Kind.DISABLED: self._disabled,
            Kind.CONFLICT: self._conflict,
            Kind.INVALID: self._invalid,
            Kind.REMOVE: self._remove_action,
            Kind.ADOPT: self._adopt,
            Kind.KEEP_STOPPED: self._keep_stopped,
            Kind.KEEP_EXITED: self._keep_exited,
            Kind.START: self._start_action,
            Kind.PULL: self._pull_action,
            Kind.CREATE: self._create_action,
            Kind.RECREATE: self._recreate_action,
        }

    def execute(self, action: Action, trigger: str) -> None:
        self._handlers[action.kind](action, trigger)

    def _disabled(self, a: Action, trigger: str) -> None:
        run = self._ctx.runs[a.name]
        run.cancel_pull()
        run.given_up = None
        st = self._ctx.board.or_new(a.name)
        self._ctx.board.set(st.with_(phase=Phase.DISABLED, reason="", container_id=None,
                                     progress=None, attempt=0, next_attempt_at=None,
                                     started_at=None))

    def _conflict(self, a: Action, trigger: str) -> None:
        st = self._ctx.board.or_new(a.name)
        self._ctx.board.set(st.with_(phase=Phase.CONFLICT, reason=a.reason, container_id=None),
                            entry="conflict")

    def _invalid(self, a: Action, trigger: str) -> None:
        st = self._ctx.board.or_new(a.name)
        self._ctx.board.set(st.with_(phase=Phase.FAILED, reason=a.reason))

    def _remove_action(self, a: Action, trigger: str) -> None:
        assert a.container is not None
        self.remove(a.container, a.reason)

    def _adopt(self, a: Action, trigger: str) -> None:
        assert a.container is not None
        run = self._ctx.runs[a.name]
        st = self._ctx.board.or_new(a.name)
        if st.phase is not Phase.RUNNING or st.container_id != a.container.id:
            restarts, started = self.inspect_run(a.container.id)
            why = "adopted the running container as it is" if trigger in (
                "restore", "reconnect") else ""
            self._ctx.board.set(st.with_(phase=Phase.RUNNING, reason=why,
                                         container_id=a.container.id, progress=None,
                                         restart_count=restarts, next_attempt_at=None,
                                         started_at=started),
                                entry="adopted" if why else "running")
        run.attempts = 0
        run.given_up = None

    def _keep_stopped(self, a: Action, trigger: str) -> None:
        assert a.container is not None
        st = self._ctx.board.or_new(a.name)
        if st.phase is not Phase.STOPPED_BY_PERSON:
            self._ctx.board.set(st.with_(
                phase=Phase.STOPPED_BY_PERSON, container_id=a.container.id,
                reason="stopped by a person; press Start or Apply to run it again"))

    def _keep_exited(self, a: Action, trigger: str) -> None:
        assert a.container is not None
        st = self._ctx.board.or_new(a.name)
        if st.phase not in (Phase.EXITED, Phase.RESTARTING):
            self._ctx.board.set(st.with_(phase=Phase.EXITED, container_id=a.container.id,
                                         reason="the container exited by itself"))

    def _start_action(self, a: Action, trigger: str) -> None:
        assert a.container is not None
        assert a.spec is not None
        run = self._ctx.runs[a.name]
        if self._keeps_failed(a.name, run) or self._waiting_retry(run):
            return
        self._start(a.name, a.container.id, a.spec, "starting the stopped container")

    def _pull_action(self, a: Action, trigger: str) -> None:
        assert a.spec is not None
        run = self._ctx.runs[a.name]
        if self._keeps_failed(a.name, run) or self._waiting_retry(run):
            return
        task = run.pull
        if task is not None and task.reference == a.spec.reference and not task.future.done():
            return  # a pull for this very image is under way; its end reconciles again
        run.cancel_pull()
        self.pulls.start(a.name, a.spec)

    def _create_action(self, a: Action, trigger: str) -> None:
        assert a.spec is not None
        run = self._ctx.runs[a.name]
        if self._keeps_failed(a.name, run) or self._waiting_retry(run):
            return
        run.cancel_pull()  # the image is here: a pull of another one is stale
        self._create_and_start(a.name, a.spec)

    def _recreate_action(self, a: Action, trigger: str) -> None:
        assert a.container is not None
        run = self._ctx.runs[a.name]
        if self._keeps_failed(a.name, run) or self._waiting_retry(run):
            return
        run.cancel_pull()
        # The new image is here: only now does the old container go (its end reconciles
        # again, which creates the new one).
        self._ctx.board.note(a.name, "recreate", "the configuration changed: recreating the "
                             "container")
        self.remove(a.container, "the configuration changed")

    # -- what a given-up instance does ---------------------------------------------------
    def _keeps_failed(self, name: str, run: Run) -> bool:
        """A given-up instance is not tried again by any pass; it shows why it failed."""
        if run.given_up is None:
            return False
        st = self._ctx.board.or_new(name)
        if st.phase is not Phase.FAILED or st.reason != run.given_up:
            self._ctx.board.set(st.with_(phase=Phase.FAILED, reason=run.given_up,
                                         progress=None, next_attempt_at=None), record=False)
        return True

    def _waiting_retry(self, run: Run) -> bool:
        return run.retry_at is not None and run.retry_at > self._ctx.loop.clock()

    # -- engine reads on this thread ------------------------------------------------------
    def observe(self, only: frozenset[str] | None = None) -> list[Observed]:
        """The containers on the host; for a pass over one instance, those of its name.

        The engine filters by name far cheaper than it lists every container (a tenth of
        the apply's own time on a host with forty). Ours under another name (renamed by hand)
        is then seen by the next full pass: restore, reconnect or the periodic one.
        """
        one = next(iter(only)) if only is not None and len(only) == 1 else None
        rows = self._ctx.link.call(lambda e: e.containers(one), "listing containers")
        out: list[Observed] = []
        for row in rows:
            names = row.get("Names") or []
            name = names[0].lstrip("/") if names else row.get("Id", "")[:12]
            out.append(Observed(row["Id"], name, str(row.get("State", "")),
                                dict(row.get("Labels") or {})))
        return out

    def find_ours(self, name: str) -> Observed | None:
        for c in self.observe(frozenset({name})):
            if c.name == name and c.owned_by(self._ctx.store_id):
                return c
        return None

    def inspect_run(self, cid: str) -> tuple[int, float | None]:
        """The container's restart count and when the engine last started it."""
        try:
            info = self._ctx.link.call(lambda e: e.inspect(cid), "inspecting")
        except EngineUnavailable:
            raise
        except EngineError:
            return 0, None
        started = str((info.get("State") or {}).get("StartedAt") or "")
        return int(info.get("RestartCount", 0) or 0), parse_rfc3339(started)

    # -- container steps, on the workers --------------------------------------------------
    def dispatch(self, name: str, step: str, pool: StepPool, fn: Callable[[Engine], T],
                 handle: Callable[[T | None, BaseException | None], bool]) -> None:
        """Run ``fn(engine)`` on ``pool``; then, on this thread, ``handle(result, error)``, and
        reconcile the instance again if it returns True (or a pass skipped it meanwhile)."""
        run = self._ctx.runs[name]
        run.step = step
        run.step_error = None

        def done(result: T | None, error: BaseException | None) -> None:  # on the worker
            self._ctx.loop.submit(lambda: self._step_done(name, handle, result, error),
                                  PRIORITY_ENGINE, f"{step} {name} done")
        pool.submit(fn, done)

    def _step_done(self, name: str, handle: Callable[[Any, BaseException | None], bool],
                   result: Any, error: BaseException | None) -> None:
        run = self._ctx.runs[name]
        run.step = None
        run.step_error = error
        again = run.replan
        run.replan = False
        try:
            again = handle(result, error) or again
        finally:
            if again and self._ctx.link.is_connected():
                self._reconcile(frozenset({name}), "step")
            if run.step is None:
                run.settle()
                if not self._ctx.repo.has_instance(name) and not run.waiters:
                    self.forget_if_gone(name)

    def forget_if_gone(self, name: str) -> None:
        """The instance is no longer stored and its container is gone: forget it entirely."""
        if self._ctx.repo.has_instance(name):
            return
        self._ctx.runs.forget(name)
        if self._ctx.board.forget(name):
            self._ctx.hub.emit(InstanceRemoved(name))

    def _create_and_start(self, name: str, spec: ContainerSpec) -> None:
        board = self._ctx.board
        run = self._ctx.runs[name]
        verified = run.verified
        made = spec
        if spec.signing is not None:
            if verified is None:
                # Never created from an unverified tag; the next pass verifies first.
                run.pulled = None
                self.attempt_failed(name, spec, f"{spec.reference} has not been verified yet")
                return
            made = pinned(spec, verified)
        board.set(board.or_new(name).with_(phase=Phase.STARTING, reason="creating the container",
                                           progress=None, next_attempt_at=None))
        store = self._ctx.store_id
        enforcement = self._ctx.enforcement
        image = str(made.create_kwargs.get("image", spec.reference))

        def create_and_start(engine: Engine) -> tuple[str, float]:
            if enforcement is not None:
                enforcement.check_create(engine, image, verified)
            cid = engine.create(made, store)
            try:
                engine.start(cid, name)
            except EngineError as exc:
                raise _StartFailed(cid, exc) from exc
            return cid, time.time()  # the engine started it just now (no inspect needed)

        def done(result: tuple[str, float] | None, error: BaseException | None) -> bool:
            if isinstance(error, EnforcementRefused):
                board.note(name, "enforcement", error.sentence)
                self._ctx.hub.emit(ContainerBlocked("", name, image, error.sentence, name))
            if isinstance(error, _StartFailed):
                board.note(name, "created", f"container {error.container_id[:12]} created "
                           f"from {image}")
                self._step_failed(name, spec, error.cause, error.container_id)
            elif error is not None:
                self._step_failed(name, spec, error, None)
            else:
                assert result is not None
                cid, started = result
                board.note(name, "created", f"container {cid[:12]} created from {image}")
                self.now_running(name, cid, started)
            return False
        self.dispatch(name, "starting", self._ctx.starts, create_and_start, done)

    def _start(self, name: str, cid: str, spec: ContainerSpec, why: str) -> None:
        board = self._ctx.board
        board.set(board.or_new(name).with_(phase=Phase.STARTING, reason=why, container_id=cid,
                                           progress=None))

        enforcement = self._ctx.enforcement
        verified = self._ctx.runs[name].verified

        def start(engine: Engine) -> float:
            if enforcement is not None:
                image = str(engine.inspect(cid).get("Image") or "")
                enforcement.check_create(engine, image, verified)
            engine.start(cid, name)
            return time.time()

        def done(started: float | None, error: BaseException | None) -> bool:
            if isinstance(error, EnforcementRefused):
                board.note(name, "enforcement", error.sentence)
            if error is not None:
                self._step_failed(name, spec, error, cid)
            else:
                self.now_running(name, cid, started)
            return False
        self.dispatch(name, "starting", self._ctx.starts, start, done)

    def _step_failed(self, name: str, spec: ContainerSpec, error: BaseException,
                     container_id: str | None) -> None:
        if self._ctx.link.lost_if_unreachable(error, f"starting {name}"):
            return
        self.attempt_failed(name, spec, explain(error, action=f"starting the container {name}",
                                                reference=spec.reference), container_id)

    def now_running(self, name: str, cid: str, started_at: float | None) -> None:
        run = self._ctx.runs[name]
        run.attempts = 0
        run.exited = False
        run.given_up = None
        board = self._ctx.board
        board.set(board.or_new(name).with_(
            phase=Phase.RUNNING, reason="", container_id=cid, attempt=0, max_attempts=0,
            next_attempt_at=None, exit_code=None, started_at=started_at or time.time()),
            entry="started")

    def remove(self, c: Observed, reason: str, *, announce: bool = True) -> None:
        name = c.instance or c.name
        self._ctx.runs[name].cancel_pull()
        board = self._ctx.board
        if announce:
            board.set(board.or_new(name).with_(phase=Phase.REMOVING, reason=reason),
                      record=False)
        self._ctx.events.expect(c.id)

        def done(_: None, error: BaseException | None) -> bool:
            if error is None:
                board.note(name, "removed", f"container removed: {reason}")
                return True
            if self._ctx.link.lost_if_unreachable(error, f"removing {c.name}"):
                return False
            board.set(board.or_new(name).with_(
                phase=Phase.FAILED, reason=explain(error, action=f"removing the container "
                                                                 f"{c.name}")))
            return False
        self.dispatch(name, "removing", self._ctx.removals,
                      lambda engine: engine.remove(c.id, STOP_TIMEOUT_S, c.name), done)

    # -- attempts --------------------------------------------------------------------------
    def attempt_failed(self, name: str, spec: ContainerSpec, sentence: str,
                       container_id: str | None = None) -> None:
        """Count a failed attempt (pull, create or start) and wait, or give up and say so."""
        run = self._ctx.runs[name]
        run.attempts += 1
        attempt = run.attempts
        limit = spec.pull.attempts
        board = self._ctx.board
        st = board.or_new(name)
        if limit and attempt >= limit:
            run.retry_at = None
            reason = (f"gave up after {attempt} attempt{'s' if attempt != 1 else ''}: "
                      f"{_period(sentence)} Fix the cause, then press Retry or Apply to try "
                      "again.")
            if self._previous_running(name, container_id):
                reason += " The container of the previous configuration keeps running."
            run.given_up = reason
            board.set(st.with_(phase=Phase.FAILED, progress=None, attempt=attempt,
                               max_attempts=limit, next_attempt_at=None, reason=reason),
                      entry="failed")
            if container_id is not None:
                # Nothing is left behind: the container that never started goes.
                self.remove(Observed(container_id, name, "created"), "it never started",
                            announce=False)
            return
        interval = spec.pull.interval_ms / 1000.0
        if not limit:
            # Unlimited attempts never loop tightly: start at the interval (at least 1 s) and
            # double up to a cap.
            base = max(interval, UNLIMITED_MIN_INTERVAL_S)
            interval = min(base * (2 ** (attempt - 1)), UNLIMITED_BACKOFF_CAP_S)
        run.retry_at = self._ctx.loop.clock() + interval
        self._ctx.loop.schedule(interval, f"retry:{name}", lambda: self._retry_due(name))
        of = f" of {limit}" if limit else ""
        board.set(st.with_(
            phase=Phase.RETRY_WAIT, progress=None, attempt=attempt, max_attempts=limit,
            next_attempt_at=time.time() + interval,
            reason=f"attempt {attempt}{of} failed: {_period(sentence)} Next attempt in "
                   f"{interval:g} s."), entry="failed attempt")

    def _retry_due(self, name: str) -> None:
        run = self._ctx.runs.get(name)
        if run is not None and run.retry_at is not None \
                and run.retry_at <= self._ctx.loop.clock() + 0.05:
            run.retry_at = None
            self._reconcile(frozenset({name}), "retry")

    def _previous_running(self, name: str, failed_id: str | None) -> bool:
        """Whether a running container of ours (an older configuration's) still serves."""
        try:
            return any(c.name == name and c.owned_by(self._ctx.store_id) and c.running
                       and c.id != failed_id for c in self.observe(frozenset({name})))
        except EngineError:
            return False

    # -- a person's stop and restart -------------------------------------------------------
    # The badge can say running while the start step is still settling: a Stop or Restart
    # pressed then is carried out once the step in flight is done, not refused.
    def person_stop(self, name: str) -> Any:
        return self._ctx.runs.once_settled(name, lambda: self._stop_now(name))

    def person_restart(self, name: str) -> Any:
        return self._ctx.runs.once_settled(name, lambda: self._restart_now(name))

    def _stop_now(self, name: str) -> Any:
        c = self.find_ours(name)
        if c is None:
            raise EngineError(f"{name} has no container to stop.")
        self._ctx.runs[name].cancel_pull()
        self._ctx.events.expect(c.id)
        self._ctx.runtime.set_stopped(name, True)
        board = self._ctx.board
        before = board.or_new(name)
        board.set(before.with_(
            phase=Phase.STOPPING, container_id=c.id,
            reason=f"stopping: the engine waits up to {STOP_TIMEOUT_S} s for its process to end"),
            record=False)

        def done(_: None, error: BaseException | None) -> bool:
            if error is not None and not gone(error):
                if not self._ctx.link.lost_if_unreachable(error, f"stopping {name}"):
                    board.set(before)
                return False
            board.set(board.or_new(name).with_(
                phase=Phase.STOPPED_BY_PERSON, container_id=c.id, started_at=None,
                reason="stopped by a person; press Start or Apply to run it again"),
                entry="stopped")
            return False
        self.dispatch(name, "stopping", self._ctx.removals,
                      lambda engine: engine.stop(c.id, STOP_TIMEOUT_S, name), done)
        return self._ctx.runs.once_settled(name,
                                           lambda: self._raise_step_error(name, "stopping"))

    def _restart_now(self, name: str) -> Any:
        c = self.find_ours(name)
        if c is None:
            raise EngineError(f"{name} has no container to restart.")
        self._ctx.events.expect(c.id)
        self._ctx.runtime.set_stopped(name, False)
        self._ctx.runs[name].exited = False
        board = self._ctx.board
        board.note(name, "restarted", "a person restarted the container")
        board.set(board.or_new(name).with_(phase=Phase.STARTING, container_id=c.id,
                                           reason="restarting the container"), record=False)

        def restart(engine: Engine) -> float:
            engine.restart(c.id, STOP_TIMEOUT_S, name)
            return time.time()

        def done(started: float | None, error: BaseException | None) -> bool:
            if error is None:
                self.now_running(name, c.id, started)
            else:
                self._ctx.link.lost_if_unreachable(error, f"restarting {name}")
            return True
        self.dispatch(name, "restarting", self._ctx.removals, restart, done)
        return self._ctx.runs.once_settled(name,
                                           lambda: self._raise_step_error(name, "restarting"))

    def _raise_step_error(self, name: str, doing: str) -> None:
        run = self._ctx.runs.get(name)
        error = run.step_error if run is not None else None
        if error is None or gone(error):
            return
        raise engine_error(error, action=f"{doing} {name}", engine=self._ctx.link.target.url)


class _StartFailed(Exception):
    """The container was created but did not start; it is left Created for the next attempt."""

    def __init__(self, container_id: str, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.container_id = container_id
        self.cause = cause


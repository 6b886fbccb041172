"""One reconcile pass: the stored instances (desired) against the labelled containers
(observed), planned by the pure planner and carried out by the step executors."""

from __future__ import annotations

import logging

from app.engine.errors import explain
from app.errors import ConfigError
from app.orchestrator.context import Context
from app.orchestrator.executor import StepExecutor
from app.orchestrator.link import EngineUnavailable
from app.orchestrator.planner import Desired, plan
from app.orchestrator.state import Phase

log = logging.getLogger(__name__)


class Reconciler:
    """Apply, restore at launch, reconnect, an import by another program, a step's end and the
    periodic pass all come here; a pass touches only the instances in ``only`` (None: all)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self.executor = StepExecutor(ctx, self.reconcile)

    def desired(self, only: frozenset[str] | None = None) -> list[Desired]:
        from app.engine.spec import spec_from_values

        out: list[Desired] = []
        for inst in self._ctx.repo.instances():
            if only is not None and inst.name not in only:
                continue
            comp = self._ctx.repo.catalog.by_pid(inst.factory)
            enabled = self._ctx.enabled(inst.name)
            try:
                out.append(Desired(inst.name, enabled, spec_from_values(comp, inst.name,
                                                                        inst.values)))
            except ConfigError as exc:
                problem = "; ".join(str(e) for e in exc.errors)
                out.append(Desired(inst.name, enabled, None,
                                   f"the stored configuration is not valid: {problem}"))
        return out

    def mark_waiting(self, reason: str) -> None:
        """No engine: every enabled instance waits for it (a given-up one stays failed)."""
        board = self._ctx.board
        for name in self._ctx.repo.instance_names():
            run = self._ctx.runs.get(name)
            if run is not None and run.given_up is not None:
                continue
            if self._ctx.enabled(name):
                board.set(board.or_new(name).with_(phase=Phase.WAITING_FOR_ENGINE,
                                                   reason=reason, progress=None), record=False)

    def reconcile(self, only: frozenset[str] | None, trigger: str) -> None:
        ctx = self._ctx
        if not ctx.link.is_connected():
            if not ctx.loop.stopping.is_set():
                self.mark_waiting(ctx.link.connection.reason or "the engine is not connected")
            return
        try:
            desired = self.desired(only)
            observed = self.executor.observe()
        except EngineUnavailable:
            return
        exited = frozenset(name for name, run in ctx.runs.items() if run.exited)
        actions = plan(desired, observed, ctx.store_id,
                       stopped_by_person=ctx.runtime.stopped_by_person(),
                       exited_by_itself=exited, only=only)
        self.executor.begin_pass()
        for action in actions:
            if not ctx.link.is_connected():
                break
            run = ctx.runs[action.name]
            if run.step is not None:
                run.replan = True  # a step of this instance is under way; after it
                continue
            try:
                self.executor.execute(action, trigger)
            except EngineUnavailable:
                break
            except Exception as exc:
                log.exception("reconciling %s failed", action.name)
                ctx.board.set(ctx.board.or_new(action.name).with_(
                    phase=Phase.FAILED,
                    reason=explain(exc, action=f"reconciling {action.name}")))

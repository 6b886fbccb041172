"""One reconcile pass: the stored instances (desired) against the labelled containers
(observed), planned by the pure planner and carried out by the step executors."""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.config.repository import InstanceConfig
from app.engine.errors import explain
from app.engine.pull import present_in
from app.engine.spec import ContainerSpec, spec_from_values
from app.errors import ConfigError
from app.metatype import Catalog
from app.orchestrator.context import Context
from app.orchestrator.executor import StepExecutor
from app.orchestrator.link import EngineUnavailable
from app.orchestrator.planner import Desired, plan
from app.orchestrator.state import Phase

log = logging.getLogger(__name__)


def derive_spec(catalog: Catalog) -> Callable[[InstanceConfig, bool], object]:
    """What the repository derives from each instance when it is stored: its container spec,
    or the ConfigError that says why the stored values cannot make one."""
    def derive(inst: InstanceConfig, validated: bool) -> object:
        try:
            return spec_from_values(catalog.by_pid(inst.factory), inst.name, inst.values,
                                    validated=validated)
        except ConfigError as exc:
            return exc
    return derive


class Reconciler:
    """Apply, restore at launch, reconnect, an import by another program, a step's end and the
    periodic pass all come here; a pass touches only the instances in ``only`` (None: all)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self.executor = StepExecutor(ctx, self.reconcile)

    def desired(self, only: frozenset[str] | None = None) -> list[Desired]:
        """Each stored instance with the spec its configuration was turned into when it was
        stored (see :func:`derive_spec`): no pass validates anything again."""
        repo = self._ctx.repo
        out: list[Desired] = []
        for name in repo.instance_names():
            if only is not None and name not in only:
                continue
            enabled = self._ctx.enabled(name)
            spec = repo.derived(name)
            if isinstance(spec, ContainerSpec):
                out.append(Desired(name, enabled, spec))
            else:
                errors = spec.errors if isinstance(spec, ConfigError) else []
                problem = "; ".join(str(e) for e in errors) or "it could not be read"
                out.append(Desired(name, enabled, None,
                                   f"the stored configuration is not valid: {problem}"))
        return out

    def _images(self) -> Callable[[str], bool]:
        """Whether the engine has a reference: one listing per pass, made only if the planner
        asks (a pass over running containers asks nothing)."""
        listing: list[dict[str, object]] | None = None

        def has(reference: str) -> bool:
            nonlocal listing
            if listing is None:
                listing = self._ctx.link.call(lambda e: e.images(), "listing images")
            return present_in(listing, reference)
        return has

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
        desired = self.desired(only)
        try:
            observed = self.executor.observe(only)
        except EngineUnavailable:
            return
        exited = frozenset(name for name, run in ctx.runs.items() if run.exited)
        pulled = {name: run.pulled for name, run in ctx.runs.items() if run.pulled}
        try:
            actions = plan(desired, observed, ctx.store_id,
                           stopped_by_person=ctx.runtime.stopped_by_person(),
                           exited_by_itself=exited, only=only, images=self._images(),
                           pulled=pulled)
        except EngineUnavailable:
            return
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

"""The pull step: an instance's image fetched on a pull worker with its deadline and progress;
its end (pulled, failed, superseded or cancelled) comes back to the reconcile thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.engine.errors import EngineError, explain
from app.engine.gateway import Engine
from app.engine.progress import PullProgress
from app.engine.pull import PullError
from app.engine.spec import ContainerSpec
from app.orchestrator.commands import PRIORITY_ENGINE
from app.orchestrator.context import Context
from app.orchestrator.events import PullProgressed
from app.orchestrator.runs import PullTask
from app.orchestrator.state import Phase

Reconcile = Callable[[frozenset[str] | None, str], None]
AttemptFailed = Callable[[str, ContainerSpec, str], None]


class Pulls:
    def __init__(self, ctx: Context, reconcile: Reconcile, attempt_failed: AttemptFailed,
                 engines: Callable[[], Engine]) -> None:
        self._ctx = ctx
        self._reconcile = reconcile
        self._attempt_failed = attempt_failed
        self._engines = engines

    def start(self, name: str, spec: ContainerSpec) -> None:
        ctx = self._ctx
        run = ctx.runs[name]
        run.generation += 1
        gen = run.generation
        cancel = threading.Event()
        creds = spec.credentials.auth_config() if spec.credentials else None
        ctx.board.set(ctx.board.or_new(name).with_(
            phase=Phase.PULLING, reason=f"pulling {spec.reference}", progress=None,
            next_attempt_at=None), entry="pulling")

        def on_progress(p: PullProgress) -> None:
            if cancel.is_set():
                return  # superseded or forgotten (the instance may have been deleted)
            st = ctx.board.or_new(name)
            if st.phase is Phase.PULLING:
                ctx.board.set(st.with_(progress=p), record=False)
            ctx.hub.emit(PullProgressed(name, p))

        def pull() -> None:
            error: BaseException | None = None
            engine: Engine | None = None
            try:
                engine = self._engines()
                engine.pull(spec.reference, creds, timeout_s=float(spec.pull.timeout_s),
                            on_progress=on_progress, cancel=cancel)
            except BaseException as exc:  # noqa: BLE001 - reported to the reconcile thread, not lost here
                error = exc
            finally:
                if engine is not None:
                    engine.close()
            ctx.loop.submit(lambda: self._done(name, gen, spec, error), PRIORITY_ENGINE,
                            f"pull of {name} done")

        future = ctx.pulls.submit(pull)
        run.pull = PullTask(spec.reference, gen, cancel, future)

    def _done(self, name: str, gen: int, spec: ContainerSpec,
              error: BaseException | None) -> None:
        ctx = self._ctx
        run = ctx.runs.get(name)
        if run is None or run.generation != gen:
            return  # superseded by a newer apply, or the instance is gone
        run.pull = None
        if error is not None:
            if isinstance(error, PullError) and error.kind == "cancelled":
                return
            if isinstance(error, PullError) and error.kind == "unreachable" and \
                    ctx.link.is_connected():
                # Is it the registry or the engine that is unreachable?
                try:
                    ctx.link.call(lambda e: e.ping(), "reaching the engine")
                except EngineError:
                    return  # the link has handled it as a lost engine
            sentence = error.sentence if isinstance(error, EngineError) else explain(
                error, action=f"pulling {spec.reference}", reference=spec.reference)
            self._attempt_failed(name, spec, sentence)
            return
        run.pulled = spec.reference
        ctx.board.note(name, "pulled", f"pulled {spec.reference}")
        self._reconcile(frozenset({name}), "pulled")

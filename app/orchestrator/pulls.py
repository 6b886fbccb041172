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
from app.orchestrator.events import DigestVerified, PullProgressed
from app.orchestrator.runs import PullTask
from app.orchestrator.signed import verify_signed
from app.orchestrator.state import Phase
from app.signing.errors import SignatureRefused
from app.signing.verify import Verified

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
        log_key = self._log_key() if spec.signing is not None else ""
        doing = (f"checking the signature of {spec.reference}" if spec.signing is not None
                 else f"pulling {spec.reference}")
        ctx.board.set(ctx.board.or_new(name).with_(
            phase=Phase.PULLING, reason=doing, progress=None,
            next_attempt_at=None), entry="pulling")
        verified: list[Verified] = []

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
                reference = spec.reference
                if spec.signing is not None:
                    # Verified first; then exactly what was verified is pulled, by digest.
                    verified.append(verify_signed(engine, spec, log_key))
                    reference = verified[0].pinned
                if not cancel.is_set():
                    engine.pull(reference, creds, timeout_s=float(spec.pull.timeout_s),
                                on_progress=on_progress, cancel=cancel)
            except BaseException as exc:  # noqa: BLE001 - reported to the reconcile thread, not lost here
                error = exc
            finally:
                if engine is not None:
                    engine.close()
            ctx.loop.submit(lambda: self._done(name, gen, spec, error,
                                               verified[0] if verified else None),
                            PRIORITY_ENGINE, f"pull of {name} done")

        future = ctx.pulls.submit(pull)
        run.pull = PullTask(spec.reference, gen, cancel, future)

    def _log_key(self) -> str:
        desc = self._ctx.repo.service_descriptor().find_by_role("tlog-key")
        return str(self._ctx.repo.service_values().get(desc.id, "")) if desc else ""

    def _done(self, name: str, gen: int, spec: ContainerSpec,
              error: BaseException | None, verified: Verified | None = None) -> None:
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
            if isinstance(error, SignatureRefused):
                ctx.board.note(name, "refused", f"the signature check refused {spec.reference}: "
                               f"{error.sentence}")
            sentence = error.sentence if isinstance(error, (EngineError, SignatureRefused)) \
                else explain(
                error, action=f"pulling {spec.reference}", reference=spec.reference)
            self._attempt_failed(name, spec, sentence)
            return
        run.pulled = spec.reference
        if verified is not None:
            run.verified = verified.digest
            ctx.board.note(name, "verified", f"{spec.reference} is {verified.digest}: "
                           f"{verified.how}")
            record_verified(ctx, name, verified.digest)
            ctx.board.note(name, "pulled", f"pulled {verified.pinned}")
        else:
            ctx.board.note(name, "pulled", f"pulled {spec.reference}")
        self._reconcile(frozenset({name}), "pulled")


def record_verified(ctx: Context, name: str, digest: str) -> None:
    """Store the verified digest in the instance's enforcement digest field, as Kura does: a
    value Moorings writes, not a person's edit (the spec, hence the container, is unchanged)."""
    desc = ctx.repo.catalog.by_pid(ctx.repo.instance(name).factory).find_by_role(
        "verified-digest")
    if desc is None or not ctx.repo.has_instance(name):
        return
    try:
        if ctx.repo.record_value(name, desc.id, digest):
            ctx.hub.emit(DigestVerified(name, digest))
    except Exception as exc:  # noqa: BLE001 - the check held; only its record failed
        ctx.board.note(name, "verified", f"the verified digest could not be stored: {exc}")

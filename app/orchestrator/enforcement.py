"""Allowlist enforcement: only containers whose actual image (its id and repo digests, never
the container's name) is in the allowlist or was verified for an instance may run. Others are
stopped, never removed; instances of other images are not created; and when it cannot check,
it says so and nothing new is created (it fails closed)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from app.engine.errors import EngineError, ErrorKind
from app.engine.gateway import STOP_TIMEOUT_S, Document, Engine, container_name, gone
from app.engine.labels import instance_of
from app.errors import SyntaxProblem
from app.fields.digests import DIGEST, parse_allowlist
from app.orchestrator.commands import PRIORITY_ENGINE
from app.orchestrator.context import Context
from app.orchestrator.events import ContainerBlocked, EnforcementChanged
from app.orchestrator.link import EngineUnavailable
from app.orchestrator.state import EnforcementStatus, Phase

log = logging.getLogger(__name__)

RUNNING = ("running", "restarting", "paused")


class EnforcementRefused(EngineError):
    """A container is not created (or started) because its image is not allowed, or because
    enforcement cannot check now."""


@dataclass(frozen=True)
class Offender:
    """A running container whose image may not run: what enforcement stops (or would)."""

    id: str
    name: str
    image: str
    digests: tuple[str, ...]
    instance: str | None
    reason: str


def image_digests(engine: Engine, image: str) -> tuple[str, set[str]]:
    """The image's id and every digest that names it: the id, and each repo digest's part
    after the @ (the manifest digest a signature and an allowlist speak of)."""
    info = engine.inspect_image(image)
    image_id = str(info.get("Id") or "")
    digests = {image_id} if DIGEST.fullmatch(image_id) else set()
    for repo_digest in info.get("RepoDigests") or []:
        _, _, digest = str(repo_digest).partition("@")
        if DIGEST.fullmatch(digest):
            digests.add(digest)
    return image_id, digests


def _short(digests: set[str] | tuple[str, ...]) -> str:
    shown = sorted(digests, key=lambda d: (d.startswith("sha256:") is False, d))
    return ", ".join(d[:19] + "..." for d in shown) or "no digest"


class Enforcement:
    """Lives on the reconcile thread, except :meth:`check_create`, which the start workers call
    and which reads only what the reconcile thread published."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._lock = threading.Lock()
        self._status = EnforcementStatus(False)
        self._allowed: frozenset[str] = frozenset()
        self._stopping: set[str] = set()  # ids with a stop in flight (reconcile thread)

    # -- settings ------------------------------------------------------------------------
    def _setting(self, role: str) -> object:
        desc = self._ctx.repo.service_descriptor().find_by_role(role)
        return self._ctx.repo.service_values().get(desc.id, "") if desc else ""

    def enabled(self) -> bool:
        return self._setting("enforcement-enabled") is True

    def allowed(self, allowlist_text: str | None = None) -> frozenset[str]:
        """The allowlist with every instance's verified digest (stored, or verified by this
        run); raises SyntaxProblem if the allowlist cannot be read. Reconcile thread."""
        out = set(self._stored(allowlist_text))
        for _, run in self._ctx.runs.items():
            if run.verified:
                out.add(run.verified)
        return frozenset(out)

    def _stored(self, allowlist_text: str | None = None) -> frozenset[str]:
        """The allowlist and the digests stored in the instances (any thread: snapshots)."""
        text = str(self._setting("enforcement-allowlist")) if allowlist_text is None \
            else allowlist_text
        out = set(parse_allowlist(text))
        repo = self._ctx.repo
        for inst in repo.instances():
            desc = repo.catalog.by_pid(inst.factory).find_by_role("verified-digest")
            digest = str(inst.values.get(desc.id, "") or "").lower() if desc else ""
            if DIGEST.fullmatch(digest):
                out.add(digest)
        return frozenset(out)

    def status(self) -> EnforcementStatus:
        with self._lock:
            return self._status

    def _publish(self, status: EnforcementStatus, allowed: frozenset[str] | None = None) -> None:
        with self._lock:
            old, self._status = self._status, status
            if allowed is not None:
                self._allowed = allowed
        if old != status:
            if status.enabled and not status.checking:
                log.error("enforcement cannot check the engine's containers: %s; no new "
                          "container is created until it can", status.reason)
            elif old.enabled != status.enabled or old.checking != status.checking:
                log.info("%s", status.summary())
            self._ctx.hub.emit(EnforcementChanged(status))

    # -- judging -------------------------------------------------------------------------
    def judge(self, engine: Engine, row: Document, allowed: frozenset[str]) -> Offender | None:
        """Whether the listed container may run; its actual image decides, never its name."""
        cid = str(row.get("Id") or "")
        name = container_name(row.get("Names"), cid)
        info = engine.inspect(cid)
        image = str(info.get("Image") or row.get("ImageID") or "")
        shown = str((info.get("Config") or {}).get("Image") or row.get("Image") or image)
        _, digests = image_digests(engine, image)
        if digests & allowed:
            return None
        labels = dict((info.get("Config") or {}).get("Labels") or {})
        instance = instance_of(labels, self._ctx.store_id)
        reason = (f"enforcement stopped it: its image {shown} ({_short(digests)}) is not in the "
                  "allowlist and was not verified for an instance; add its digest to the "
                  "allowlist, or sign the image and give its instance the trust anchor")
        return Offender(cid, name, shown, tuple(sorted(digests)), instance, reason)

    def offenders(self, engine: Engine, allowed: frozenset[str]) -> list[Offender]:
        out = []
        for row in engine.containers():
            if str(row.get("State", "")) not in RUNNING:
                continue
            try:
                offender = self.judge(engine, row, allowed)
            except EngineError as exc:
                if gone(exc):
                    continue  # it went away meanwhile: nothing to stop
                raise
            if offender is not None:
                out.append(offender)
        return out

    def preview(self, allowlist_text: str | None = None) -> list[Offender]:
        """The running containers that enforcement would stop with this allowlist (the stored
        one by default): for the confirmation before it is switched on."""
        allowed = self.allowed(allowlist_text)
        return self._ctx.link.call(lambda e: self.offenders(e, allowed),
                                   "checking the containers' images")

    # -- acting (reconcile thread) -------------------------------------------------------
    def sweep(self, trigger: str) -> None:
        """Check every running container (switched on, connected, reconnected)."""
        if not self.enabled():
            self._publish(EnforcementStatus(False))
            return
        try:
            allowed = self.allowed()
        except SyntaxProblem as exc:
            self._fail(f"the allowlist cannot be read: {exc.message}")
            return
        try:
            found = self._ctx.link.call(lambda e: self.offenders(e, allowed),
                                        "checking the containers' images")
        except EngineUnavailable as exc:
            self._fail(f"the engine is not connected ({exc.sentence})")
            return
        except EngineError as exc:
            self._fail(exc.sentence)
            return
        now_stopped = tuple(o.name for o in found if self._stop(o))
        stopped = self.status().stopped + now_stopped
        self._publish(EnforcementStatus(True, True, "", stopped[-50:], time.time()), allowed)

    def retry_if_failing(self) -> None:
        status = self.status()
        if self.enabled() and (not status.checking or not status.enabled):
            self.sweep("periodic")

    def _fail(self, why: str) -> None:
        old = self.status()
        self._publish(EnforcementStatus(True, False, why, old.stopped, time.time()))

    def on_event_thread(self, raw: dict[str, Any]) -> None:
        """On the engine's event thread: a container start is checked on the loop."""
        if str(raw.get("Action") or raw.get("status") or "") == "start":
            cid = str((raw.get("Actor") or {}).get("ID") or raw.get("id") or "")
            self._ctx.loop.submit(lambda: self.on_start(cid), PRIORITY_ENGINE,
                                  "enforcement: a container started")

    def on_start(self, container_id: str) -> None:
        """A container started: check it at once."""
        if not self.enabled():
            return
        status = self.status()
        try:
            allowed = self.allowed()
            rows = self._ctx.link.call(lambda e: e.containers(ids=[container_id]),
                                       "listing the started container")
            for row in rows:
                if str(row.get("State", "")) in RUNNING:
                    def judge(engine: Engine, listed: Document = row) -> Offender | None:
                        return self.judge(engine, listed, allowed)
                    offender = self._ctx.link.call(judge, "checking the container's image")
                    if offender is not None and self._stop(offender):
                        self._publish(EnforcementStatus(
                            True, status.checking, status.reason,
                            (*status.stopped, offender.name)[-50:], time.time()), allowed)
        except SyntaxProblem as exc:
            self._fail(f"the allowlist cannot be read: {exc.message}")
        except EngineUnavailable:
            return  # the reconnect sweeps
        except EngineError as exc:
            if not gone(exc):
                self._fail(exc.sentence)

    def _stop(self, offender: Offender) -> bool:
        """Stop the container (once, however many checks find it); whether this did."""
        ctx = self._ctx
        if offender.id in self._stopping:
            return False
        self._stopping.add(offender.id)
        ctx.board.history.add(offender.name, "enforcement", offender.reason)
        log.warning("%s (%s): %s", offender.name, offender.id[:12], offender.reason)
        ctx.hub.emit(ContainerBlocked(offender.id, offender.name, offender.image,
                                      offender.reason, offender.instance))
        if offender.instance is not None and ctx.repo.has_instance(offender.instance):
            # One of ours: no pass starts it again until a person acts (Apply, Start, Retry).
            name = offender.instance
            ctx.events.expect(offender.id)
            ctx.runs[name].given_up = offender.reason
            ctx.board.set(ctx.board.or_new(name).with_(
                phase=Phase.FAILED, reason=offender.reason, container_id=offender.id),
                entry="enforcement")

        def ended(error: BaseException | None) -> None:  # reconcile thread
            self._stopping.discard(offender.id)
            if error is not None and not gone(error):
                self._fail(f"stopping {offender.name} failed: "
                           f"{getattr(error, 'sentence', error)}")

        def done(_: None, error: BaseException | None) -> None:  # a removal worker
            ctx.loop.submit(lambda: ended(error), PRIORITY_ENGINE, "enforcement stop done")
        ctx.removals.submit(lambda e: e.stop(offender.id, STOP_TIMEOUT_S, offender.name), done)
        return True

    # -- before a create (start workers) -------------------------------------------------
    def check_create(self, engine: Engine, reference: str, verified: str | None = None) -> None:
        """Raise EnforcementRefused unless the image may run (or enforcement is off)."""
        if not self.enabled():
            return
        status = self.status()
        if not status.checking or not status.enabled:
            why = status.reason or "it has not checked the engine's containers yet"
            raise EnforcementRefused(f"enforcement is on but cannot check ({why}); no new "
                                     "container is created until it can", ErrorKind.CONFLICT)
        with self._lock:
            allowed = self._allowed | ({verified} if verified else set())
        try:
            allowed = allowed | self._stored()
        except SyntaxProblem as exc:
            raise EnforcementRefused(f"enforcement is on but the allowlist cannot be read: "
                                     f"{exc.message}", ErrorKind.CONFLICT) from None
        _, digests = image_digests(engine, reference)
        if digests & allowed:
            return
        raise EnforcementRefused(
            f"enforcement is on and the image {reference} ({_short(digests)}) is not in the "
            "allowlist and was not verified for this instance; add its digest to the "
            "allowlist, or sign the image and set the instance's Trust anchor",
            ErrorKind.CONFLICT)

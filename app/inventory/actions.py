"""A person's actions on a container or an image from the inventory: an instance's container goes
through the orchestrator (so a person's stop is remembered), any other straight to the engine
through the gateway's verbs."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from typing import Any

from app.engine.errors import EngineError, ErrorKind
from app.engine.gateway import Engine
from app.inventory.rows import ownership
from app.orchestrator.service import Orchestrator

ACTION_TIMEOUT_S = 30


def settle(future: Future[None], exc: BaseException | None = None) -> None:
    """Settle ``future`` unless it already is (stop() fails what is pending, from its thread,
    while a worker may be finishing the same request)."""
    if future.done():
        return
    try:
        if exc is None:
            future.set_result(None)
        else:
            future.set_exception(exc)
    except InvalidStateError:
        pass  # settled meanwhile: that answer stands


def chain(source: Future[Any], target: Future[None]) -> None:
    """Settle ``target`` when ``source`` settles (the orchestrator's result is not ours)."""
    def done(f: Future[Any]) -> None:
        exc = f.exception() if not f.cancelled() else EngineError("the request was cancelled")
        settle(target, exc)
    source.add_done_callback(done)


def action_engine(orch: Orchestrator) -> Engine:
    """A connection for one person's action (the feed's own is busy listing)."""
    conn = orch.connection()
    if not conn.connected:
        raise EngineError(f"the engine is not connected: {conn.reason or 'not yet'}")
    return Engine.open(orch.target(), timeout=ACTION_TIMEOUT_S)


def container_action(orch: Orchestrator, cid: str, verb: str, future: Future[None]) -> None:
    """On the action thread: an instance's container goes through the orchestrator, so that
    a person's stop is remembered and Moorings does not fight it; others go to the engine."""
    engine = action_engine(orch)
    try:
        info = engine.inspect(cid)
        name = str(info.get("Name") or cid[:12]).lstrip("/")
        labels = (info.get("Config") or {}).get("Labels") or {}
        _, instance = ownership(labels, orch.store_id)
        if instance is not None:
            if verb == "remove":
                raise EngineError(
                    f"the container {name} belongs to the instance {instance}; disable or "
                    "delete the instance to remove it", ErrorKind.CONFLICT)
            calls = {"stop": orch.stop_container, "start": orch.start_container,
                     "restart": orch.restart_container}
            chain(calls[verb](instance), future)
            return
        full_id = str(info.get("Id") or cid)
        verbs: dict[str, Callable[..., None]] = {
            "start": engine.start, "stop": engine.stop, "restart": engine.restart,
            "remove": engine.remove}
        verbs[verb](full_id, name=name)
        settle(future)
    finally:
        engine.close()

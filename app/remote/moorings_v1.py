"""MOORINGS-V1, Moorings' own application beside Kura's (kura-remote.md §5.3): container logs,
an instance's history and rich state, deleting an instance, and state notifications pushed
under the device's own topic subtree (``<prefix>/<account>/<client-id>/MOORINGS-V1/NOTIFY/
instances/<name>``, which Kapua's device ACL lets a device write), so a console needs no polling.

Resources (JSON bodies unless said):

- ``GET instances``: every instance's state; ``GET instances/<name>``: one, with its container's
  id, image and configuration digest; ``GET instances/<name>/history``: its timeline.
- ``DEL instances/<name>``: delete the instance (its container too), as a person's Delete.
- ``GET containers/<name>/logs``: metrics ``tail`` (INT32, default 200), ``since`` (INT64 epoch
  ms), ``timestamps`` (BOOL), ``stream`` (``stdout``, ``stderr`` or ``both``); the body is the
  text, at most 256 KiB (the newest lines kept); reply metrics ``lines`` and ``truncated``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from app.engine.errors import EngineError
from app.engine.labels import LABEL_DIGEST
from app.engine.times import parse_rfc3339
from app.inventory.logs import open_logs
from app.orchestrator.events import Event, InstanceRemoved, StateChanged
from app.orchestrator.service import Orchestrator
from app.orchestrator.state import InstanceStatus
from app.remote.dispatch import ERROR, Request, RequestError, Response, bad_request, not_found
from app.remote.payload import Payload, encode, now_ms
from app.remote.topics import Identity

APP_ID = "MOORINGS-V1"
log = logging.getLogger(__name__)
MAX_LOG_BYTES = 256 * 1024
DEFAULT_TAIL = 200
MAX_TAIL = 100_000
LOG_WAIT_S = 20.0
PROGRESS_EVERY_S = 1.0  # pull progress is pushed at most this often per instance


def dumps(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def state_doc(status: InstanceStatus) -> dict[str, Any]:
    progress = status.progress
    return {
        "name": status.name, "phase": status.phase.value, "reason": status.reason,
        "summary": status.summary(), "containerId": status.container_id,
        "attempt": status.attempt, "maxAttempts": status.max_attempts,
        "nextAttemptAt": status.next_attempt_at, "restartCount": status.restart_count,
        "exitCode": status.exit_code, "since": status.since, "startedAt": status.started_at,
        "pull": None if progress is None else {
            "reference": progress.reference, "current": progress.current,
            "total": progress.total},
    }


@dataclass
class _LogRead:
    lines: list[str]
    end: str | None = None


class MooringsV1:
    app_id = APP_ID

    def __init__(self, orchestrator: Orchestrator,
                 publish: Callable[[str, bytes, int], bool],
                 identity: Callable[[], Identity | None]) -> None:
        self._orch = orchestrator
        self._publish = publish
        self._identity = identity
        self._last_push: dict[str, tuple[str, str, float]] = {}
        self._lock = threading.Lock()
        orchestrator.add_listener(self._on_event)

    # -- notifications (on the orchestrator's threads: only encode and queue) -----------------
    def _on_event(self, event: Event) -> None:
        if isinstance(event, StateChanged):
            status = event.status
            key = (status.phase.value, status.reason)
            now = time.monotonic()
            with self._lock:
                last = self._last_push.get(status.name)
                if last is not None and (last[0], last[1]) == key and \
                        now - last[2] < PROGRESS_EVERY_S:
                    return
                self._last_push[status.name] = (key[0], key[1], now)
            self._push(status.name, state_doc(status))
        elif isinstance(event, InstanceRemoved):
            with self._lock:
                self._last_push.pop(event.name, None)
            self._push(event.name, {"name": event.name, "phase": "removed"})

    def _push(self, name: str, doc: dict[str, Any]) -> None:
        identity = self._identity()
        if identity is None:
            return
        payload = Payload({"name": name, "phase": str(doc.get("phase", ""))}, dumps(doc),
                          now_ms())
        self._publish(identity.notify(APP_ID, "instances", name), encode(payload), 0)

    # -- requests ----------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        res, method = request.resources, request.method
        if res[:1] == ("instances",):
            if method == "GET" and len(res) == 1:
                statuses = self._orch.statuses()
                return Response(body=dumps({"instances": [
                    state_doc(statuses[n]) for n in sorted(statuses)]}))
            if len(res) >= 2:
                name = res[1]
                if not self._orch.repository.has_instance(name):
                    raise not_found(f"there is no instance named {name}")
                if method == "GET" and len(res) == 2:
                    return Response(body=dumps(self._rich(name)))
                if method == "GET" and res[2:] == ("history",):
                    return Response(body=dumps({"name": name, "history": [
                        {"time": e.time, "kind": e.kind, "message": e.message}
                        for e in self._orch.history(name)]}))
                if method == "DEL" and len(res) == 2:
                    self._wait(self._orch.delete_instance(name), f"deleting {name}")
                    return Response()
        if method == "GET" and len(res) == 3 and res[0] == "containers" and res[2] == "logs":
            return self._logs(res[1], request)
        raise not_found(f"there is no {method} resource {'/'.join(res) or '(none)'} in "
                        f"{APP_ID}; expected instances[/<name>[/history]] or "
                        "containers/<name>/logs")

    def _wait(self, future: Any, label: str) -> None:
        try:
            future.result(25.0)
        except FutureTimeout:
            return
        except EngineError as exc:
            raise RequestError(ERROR, exc.sentence) from exc

    def _rich(self, name: str) -> dict[str, Any]:
        status = self._orch.status(name)
        doc: dict[str, Any] = state_doc(status) if status is not None else {"name": name}
        inst = self._orch.repository.instance(name)
        doc["enabled"] = bool(inst.values.get("container.enabled", False))
        cid = doc.get("containerId")
        if cid:
            try:
                info = self._orch.call_engine(lambda e: e.inspect(str(cid)),
                                              f"inspecting {name}").result(30)
                labels = (info.get("Config") or {}).get("Labels") or {}
                state = info.get("State") or {}
                doc["container"] = {
                    "id": info.get("Id"), "image": (info.get("Config") or {}).get("Image"),
                    "imageId": info.get("Image"), "configDigest": labels.get(LABEL_DIGEST),
                    "state": state.get("Status"), "startedAt": state.get("StartedAt"),
                    "health": (state.get("Health") or {}).get("Status")}
            except (EngineError, FutureTimeout) as exc:
                doc["container"] = {"error": getattr(exc, "sentence", str(exc))}
        return doc

    def _logs(self, name: str, request: Request) -> Response:
        tail_raw = request.metrics.get("tail", DEFAULT_TAIL)
        since_raw = request.metrics.get("since")
        stream = request.metrics.get("stream", "both")
        stamps = request.metrics.get("timestamps", False) is True
        if isinstance(tail_raw, bool) or not isinstance(tail_raw, int) or tail_raw < 0:
            raise bad_request("tail must be a whole number of lines (INT32), 0 or more")
        if since_raw is not None and (isinstance(since_raw, bool) or not isinstance(
                since_raw, int)):
            raise bad_request("since must be epoch milliseconds (INT64)")
        if stream not in ("stdout", "stderr", "both"):
            raise bad_request("stream must be stdout, stderr or both")
        rows = self._orch.call_engine(lambda e: e.containers(name=name),
                                      f"looking up {name}").result(30)
        if not rows:
            raise not_found(f"there is no container named {name}")
        read = _LogRead([])
        done = threading.Event()
        since_s = since_raw / 1000.0 if since_raw is not None else None

        def on_line(timestamp: str, text: str, which: str) -> None:
            if stream != "both" and which != stream:
                return
            if since_s is not None:
                t = parse_rfc3339(timestamp)
                if t is not None and t < since_s:
                    return
            read.lines.append(f"{timestamp} {text}" if stamps else text)

        def on_end(reason: str) -> None:
            read.end = reason
            done.set()

        tail = min(int(tail_raw), MAX_TAIL) if since_raw is None else "all"
        reader = open_logs(self._orch, str(rows[0]["Id"]), follow=False, tail=tail,
                           on_line=on_line, on_end=on_end)
        if not done.wait(LOG_WAIT_S):
            reader.close()
        if read.end:
            raise RequestError(ERROR, read.end)
        lines = read.lines[-int(tail_raw):] if since_raw is not None and tail_raw else read.lines
        body, truncated = _capped(lines)
        return Response(body=body, metrics={"lines": body.count(b"\n"),
                                            "truncated": truncated})


def _capped(lines: list[str]) -> tuple[bytes, bool]:
    """The newest lines that fit in MAX_LOG_BYTES (a broker caps its messages)."""
    out: list[bytes] = []
    size = 0
    for line in reversed(lines):
        data = (line + "\n").encode("utf-8", "replace")
        if size + len(data) > MAX_LOG_BYTES:
            return b"".join(reversed(out)), True
        out.append(data)
        size += len(data)
    return b"".join(reversed(out)), False

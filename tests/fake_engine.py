"""A fake engine behind the orchestrator's injectable engine factory, for pure orchestration
logic only: rules the real engine makes slow to reach (a ten-minute backoff cap, a 60 s
window), and races held open on purpose. Nothing here counts as proof of engine behaviour."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from app.engine.errors import EngineError, ErrorKind
from app.engine.hosts import EngineTarget
from app.engine.labels import LABEL_INSTANCE, LABEL_STORE
from app.engine.progress import PullProgress
from app.engine.pull import PullError, present_in
from app.engine.spec import ContainerSpec, container_labels


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self._now = 1000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class FakeDocker:
    """The engine's state, shared by every FakeEngine "connection" to it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.containers: dict[str, dict[str, Any]] = {}
        self.images: set[str] = set()
        self.down = False
        self.pull_fails: EngineError | None = None
        self.start_fails: EngineError | None = None
        self.pull_gate: threading.Event | None = None  # set: pulls may finish
        self.remove_gate: threading.Event | None = None  # set: removals may finish
        # set: a start returns (its container already runs and its event is out)
        self.start_gate: threading.Event | None = None
        self.pulls: list[tuple[str, threading.Event | None]] = []
        self._ids = itertools.count(1)
        self._watchers: list[FakeWatcher] = []

    # -- what tests do to it -------------------------------------------------------------
    def go_down(self) -> None:
        with self.lock:
            self.down = True
            watchers, self._watchers = list(self._watchers), []
        for w in watchers:
            w.lose("the engine's event stream ended")

    def come_up(self) -> None:
        with self.lock:
            self.down = False

    def emit(self, action: str, cid: str, **attrs: str) -> None:
        with self.lock:
            c = self.containers.get(cid)
            labels = dict(c["Labels"]) if c else {}
            name = c["Names"][0].lstrip("/") if c else attrs.pop("name", "")
            watchers = list(self._watchers)
        event = {"Action": action, "Actor": {"ID": cid, "Attributes": {
            "name": name, **labels, **attrs}}, "timeNano": time.time_ns()}
        for w in watchers:
            w.deliver(event)

    def named(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.containers.values() if c["Names"] == [f"/{name}"]]

    # -- what the engine does ------------------------------------------------------------
    def check_up(self) -> None:
        if self.down:
            raise EngineError("the Docker engine at fake:// is not running",
                              ErrorKind.UNREACHABLE)

    def add_watcher(self, watcher: FakeWatcher) -> None:
        with self.lock:
            self._watchers.append(watcher)

    def remove_watcher(self, watcher: FakeWatcher) -> None:
        with self.lock:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

    def new_id(self) -> str:
        return f"{next(self._ids):064x}"


class FakeWatcher:
    def __init__(self, docker: FakeDocker, on_event: Callable[[dict[str, Any]], None],
                 on_lost: Callable[[str], None]) -> None:
        self._docker = docker
        self._on_event = on_event
        self._on_lost = on_lost
        self.last_time = time.time()
        self._stopped = False

    def start(self) -> None:
        self._docker.add_watcher(self)

    def stop(self) -> None:
        self._stopped = True
        self._docker.remove_watcher(self)

    def deliver(self, event: dict[str, Any]) -> None:
        if not self._stopped:
            self._on_event(event)

    def lose(self, reason: str) -> None:
        if not self._stopped:
            self._stopped = True
            self._on_lost(reason)


class FakeEngine:
    """One connection to the FakeDocker, with the verbs of app.engine.gateway.Engine."""

    api_version = "1.41"

    def __init__(self, docker: FakeDocker, target: EngineTarget) -> None:
        self._docker = docker
        self.url = target.url

    def close(self) -> None:
        pass

    def ping(self) -> None:
        self._docker.check_up()

    def containers(self, name: str | None = None,
                   ids: list[str] | None = None) -> list[dict[str, Any]]:
        d = self._docker
        d.check_up()
        with d.lock:
            rows = [dict(c) for c in d.containers.values()]
        if name:
            rows = [r for r in rows if r["Names"] == [f"/{name}"]]
        if ids is not None:
            rows = [r for r in rows if r["Id"] in ids]
        return rows

    def inspect(self, cid: str) -> dict[str, Any]:
        d = self._docker
        d.check_up()
        with d.lock:
            c = d.containers.get(cid)
            if c is None:
                raise EngineError(f"there is no container {cid[:12]} any more",
                                  ErrorKind.NOT_FOUND)
            return {"Id": cid, "Name": c["Names"][0], "RestartCount": 0,
                    "State": {"StartedAt": c.get("StartedAt", "0001-01-01T00:00:00Z"),
                              "Running": c["State"] == "running"},
                    "Config": {"Labels": dict(c["Labels"])}}

    def create(self, spec: ContainerSpec, store_id: str, *,
               labels: dict[str, str] | None = None) -> str:
        d = self._docker
        d.check_up()
        with d.lock:
            if d.named(spec.name):
                raise EngineError(f"the name {spec.name} is already in use", ErrorKind.CONFLICT)
            cid = d.new_id()
            d.containers[cid] = {
                "Id": cid, "Names": [f"/{spec.name}"], "State": "created",
                "Labels": dict(labels if labels is not None else
                               container_labels(spec, store_id)),
                "Image": spec.reference, "ImageID": "sha256:fake", "Created": int(time.time())}
        d.emit("create", cid)
        return cid

    def _set_state(self, cid: str, state: str) -> None:
        d = self._docker
        with d.lock:
            c = d.containers.get(cid)
            if c is None:
                raise EngineError(f"there is no container {cid[:12]} any more",
                                  ErrorKind.NOT_FOUND)
            c["State"] = state
            if state == "running":
                c["StartedAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def start(self, cid: str, name: str | None = None) -> None:
        self._docker.check_up()
        if self._docker.start_fails is not None:
            raise self._docker.start_fails
        self._set_state(cid, "running")
        self._docker.emit("start", cid)
        gate = self._docker.start_gate
        if gate is not None and not gate.wait(30):
            raise AssertionError("the test never opened the start gate")

    def stop(self, cid: str, timeout: int = 10, name: str | None = None) -> None:
        self._docker.check_up()
        self._set_state(cid, "exited")
        self._docker.emit("die", cid, exitCode="0")
        self._docker.emit("stop", cid)

    def restart(self, cid: str, timeout: int = 10, name: str | None = None) -> None:
        self.stop(cid)
        self.start(cid)

    def remove(self, cid: str, timeout: int = 10, name: str | None = None) -> None:
        d = self._docker
        d.check_up()
        gate = d.remove_gate
        if gate is not None and not gate.wait(30):
            raise AssertionError("the test never opened the remove gate")
        with d.lock:
            c = d.containers.pop(cid, None)
        if c is not None:
            d.emit("destroy", cid, name=c["Names"][0].lstrip("/"))

    def images(self) -> list[dict[str, Any]]:
        self._docker.check_up()
        with self._docker.lock:
            return [{"Id": "sha256:fake", "RepoTags": [ref], "RepoDigests": []}
                    for ref in self._docker.images]

    def image_present(self, reference: str) -> bool:
        return present_in(self.images(), reference)

    def watch(self, on_event: Callable[[dict[str, Any]], None], on_lost: Callable[[str], None],
              since: float | None) -> FakeWatcher:
        self._docker.check_up()
        return FakeWatcher(self._docker, on_event, on_lost)

    def pull(self, reference: str, credentials: dict[str, str] | None, *, timeout_s: float,
             on_progress: Callable[[PullProgress], None] | None = None,
             cancel: threading.Event | None = None) -> None:
        d = self._docker
        d.check_up()
        with d.lock:
            d.pulls.append((reference, cancel))
            gate, fails = d.pull_gate, d.pull_fails
        if on_progress is not None:
            on_progress(PullProgress(reference, (), 0, 100))
        if gate is not None:
            while not gate.wait(0.01):
                if cancel is not None and cancel.is_set():
                    # Progress a slow engine might still report once cancelled.
                    if on_progress is not None:
                        on_progress(PullProgress(reference, (), 50, 100))
                    raise PullError("the pull was cancelled", ErrorKind.CANCELLED)
        if fails is not None:
            raise PullError(fails.sentence, fails.kind)
        with d.lock:
            d.images.add(reference)


def engines_for(docker: FakeDocker) -> Callable[[EngineTarget], FakeEngine]:
    return lambda target: FakeEngine(docker, target)


def own_containers(docker: FakeDocker, name: str, store: str) -> list[dict[str, Any]]:
    return [c for c in docker.named(name) if c["Labels"].get(LABEL_STORE) == store
            and c["Labels"].get(LABEL_INSTANCE) == name]

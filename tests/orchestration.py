"""Helpers for tests that run the real orchestrator against the real engine."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import TestEnv

from app.config.repository import ConfigRepository
from app.config.store import ConfigStore
from app.core import build_core
from app.metatype import load_catalog
from app.orchestrator.events import Event, StateChanged
from app.orchestrator.service import Orchestrator
from app.orchestrator.state import InstanceStatus, Phase

# busybox as PID 1 ignores SIGTERM; this entrypoint exits at once on stop (0.1 s, not 10 s).
SLEEPER = "sh,-c,trap 'exit 0' TERM; sleep 3600 & wait"


def instance_values(env: TestEnv, **overrides: Any) -> dict[str, Any]:
    """An enabled instance of the local test image that publishes nothing."""
    values: dict[str, Any] = {
        "container.enabled": True,
        "container.image": env.image_repo,
        "container.image.tag": env.image_tag,
        "container.ports.internal": "",
        "container.ports.external": "",
        "container.entrypoint": SLEEPER,
        "container.image.download.retries": 2,
        "container.image.download.interval": 200,
        "container.image.download.timeout": 30,
    }
    values.update(overrides)
    return values


def registry_values(env: TestEnv, tag: str = "1", password: str | None = None,
                    **overrides: Any) -> dict[str, Any]:
    """An enabled instance pulling from the authenticated test registry."""
    return instance_values(
        env,
        **{"container.image": f"{env.registry}/{env.image_repo}",
           "container.image.tag": tag,
           "registry.hostname": env.registry,
           "registry.username": env.registry_user,
           "registry.password": env.registry_password if password is None else password,
           **overrides})


class Recorder:
    """Collects every event; waits for a condition on the latest status of an instance."""

    def __init__(self, orch: Orchestrator) -> None:
        self.orch = orch
        self.events: list[Event] = []
        orch.add_listener(self.events.append)

    def wait_status(self, name: str, pred: Callable[[InstanceStatus], bool],
                    timeout: float = 60.0) -> InstanceStatus:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.orch.status(name)
            if last is not None and pred(last):
                return last
            time.sleep(0.05)
        raise AssertionError(f"{name} never reached the expected state; last: "
                             f"{last.summary() if last else None}")

    def wait_phase(self, name: str, phase: Phase, timeout: float = 60.0) -> InstanceStatus:
        return self.wait_status(name, lambda s: s.phase is phase, timeout)

    def phases(self, name: str) -> list[Phase]:
        return [e.status.phase for e in list(self.events)
                if isinstance(e, StateChanged) and e.status.name == name]


def make_orchestrator(folder: Path, env: TestEnv, **kwargs: Any) -> Orchestrator:
    """The core as Moorings builds it (without the folder's lock), on the test engine."""
    folder.mkdir(parents=True, exist_ok=True)
    ConfigRepository(ConfigStore(folder), load_catalog()).update_service(
        {"container.engine.host": env.docker_host})
    return build_core(folder, claim=False, **kwargs).orchestrator


@contextmanager
def running(folder: Path, env: TestEnv, **kwargs: Any) -> Iterator[tuple[Orchestrator, Recorder]]:
    orch = make_orchestrator(folder, env, **kwargs)
    rec = Recorder(orch)
    orch.start()
    try:
        yield orch, rec
    finally:
        orch.stop()

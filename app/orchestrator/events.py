"""Typed events that the orchestrator publishes; listeners may be called on any thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.engine.progress import PullProgress
from app.orchestrator.state import EnforcementStatus, InstanceStatus
from app.redact import mask_address, mask_credentials

if TYPE_CHECKING:
    from app.orchestrator.service import Orchestrator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StateChanged:
    status: InstanceStatus


@dataclass(frozen=True)
class PullProgressed:
    name: str
    progress: PullProgress


@dataclass(frozen=True)
class ContainerEvent:
    """Something the engine reported about a container (start, die, stop, destroy...)."""

    container_id: str
    action: str
    name: str
    instance: str | None
    attributes: dict[str, str] = field(default_factory=dict)
    time: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ConnectionChanged:
    connected: bool
    host: str
    reason: str = ""
    api_version: str = ""

    def __post_init__(self) -> None:
        # Both are shown (header, status line, log): never a password typed into the address.
        object.__setattr__(self, "host", mask_address(self.host))
        object.__setattr__(self, "reason", mask_credentials(self.reason))


@dataclass(frozen=True)
class InstanceAdded:
    """A new instance was stored (by this process, or by another one such as a config import)."""

    name: str


@dataclass(frozen=True)
class InstanceChanged:
    """Another process changed an instance's stored configuration (a form showing it is stale)."""

    name: str


@dataclass(frozen=True)
class InstanceRemoved:
    name: str


@dataclass(frozen=True)
class DigestVerified:
    """Moorings verified the instance's image and stored its digest in the instance (a form
    showing the enforcement digest field can show the new value)."""

    name: str
    digest: str


@dataclass(frozen=True)
class EnforcementChanged:
    """The allowlist enforcement's state: on or off, whether it can check, and why not."""

    status: EnforcementStatus


@dataclass(frozen=True)
class ContainerBlocked:
    """Enforcement stopped a running container (or refused to create one) whose image is not
    allowed; ``instance`` is set for one of ours."""

    container_id: str
    name: str
    image: str
    reason: str
    instance: str | None = None


Event = (StateChanged | PullProgressed | ContainerEvent | ConnectionChanged | InstanceAdded
         | InstanceChanged | InstanceRemoved | DigestVerified | EnforcementChanged
         | ContainerBlocked)
Listener = Callable[[Event], None]


class EventHub:
    """Fan-out of events to listeners; a failing listener is logged and never stops the others."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def add(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def emit(self, event: Event) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a listener's bug must not stop orchestration
                log.exception("an event listener failed on %s", type(event).__name__)


def emit_all_statuses(orchestrator: Orchestrator, listener: Callable[[Event], None]) -> None:
    """Replay the current state to a late listener (a window opened after start)."""
    listener(orchestrator.connection())
    listener(EnforcementChanged(orchestrator.enforcement()))
    for status in orchestrator.statuses().values():
        listener(StateChanged(status))

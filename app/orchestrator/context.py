"""What the orchestrator's rooms share: the configuration, the board, the run records, the
loop, the link to the engine and the step workers (built once, in the service)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.config.repository import ConfigRepository
from app.engine.gateway import Engine, EngineFactory
from app.metatype import INSTANCE_FACTORY_PID
from app.orchestrator.board import StatusBoard
from app.orchestrator.events import EventHub, InstanceAdded
from app.orchestrator.interpret import EventInterpreter
from app.orchestrator.link import EngineLink
from app.orchestrator.loop import CommandLoop
from app.orchestrator.runs import Runs
from app.orchestrator.runtime import RuntimeState
from app.orchestrator.state import InstanceStatus, Phase
from app.orchestrator.steps import StepPool

if TYPE_CHECKING:
    from app.orchestrator.enforcement import Enforcement


@dataclass
class Context:
    repo: ConfigRepository
    store_id: str
    hub: EventHub
    board: StatusBoard
    runs: Runs
    runtime: RuntimeState
    loop: CommandLoop
    link: EngineLink
    events: EventInterpreter
    starts: StepPool
    removals: StepPool
    pulls: ThreadPoolExecutor
    engines: EngineFactory
    enforcement: Enforcement | None = None  # set once built (it needs the context)

    def open_engine(self) -> Engine:
        """A new client for the engine the link points at (for a worker thread)."""
        return self.engines(self.link.target)

    def fresh_start(self, name: str) -> None:
        """A person's apply, start or retry, or a new configuration: fresh attempts, and a
        person's stop no longer holds."""
        self.runs[name].reset()
        self.runtime.set_stopped(name, False)

    def initial_status(self, name: str) -> InstanceStatus:
        if self.enabled(name):
            return InstanceStatus(name, Phase.WAITING_FOR_ENGINE, "connecting to the engine")
        return InstanceStatus(name, Phase.DISABLED)

    def added(self, name: str, why: str) -> None:
        """A new instance was stored: its history starts, the tree hears of it."""
        self.board.note(name, "created", why)
        if not self.link.is_connected():
            self.board.set(self.initial_status(name), record=False)
        self.hub.emit(InstanceAdded(name))

    def enabled(self, name: str) -> bool:
        desc = self.repo.catalog.by_pid(INSTANCE_FACTORY_PID).find_by_role("enabled")
        key = desc.id if desc else "container.enabled"
        return bool(self.repo.instance(name).values.get(key, False))

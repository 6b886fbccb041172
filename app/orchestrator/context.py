"""What the orchestrator's rooms share: the configuration, the board, the run records, the
loop, the link to the engine and the step workers (built once, in the service)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from app.config.repository import ConfigRepository
from app.engine.gateway import Engine, EngineFactory
from app.metatype import INSTANCE_FACTORY_PID
from app.orchestrator.board import StatusBoard
from app.orchestrator.events import EventHub
from app.orchestrator.interpret import EventInterpreter
from app.orchestrator.link import EngineLink
from app.orchestrator.loop import CommandLoop
from app.orchestrator.runs import Runs
from app.orchestrator.runtime import RuntimeState
from app.orchestrator.steps import StepPool


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

    def open_engine(self) -> Engine:
        """A new client for the engine the link points at (for a worker thread)."""
        return self.engines(self.link.target)

    def enabled(self, name: str) -> bool:
        desc = self.repo.catalog.by_pid(INSTANCE_FACTORY_PID).find_by_role("enabled")
        key = desc.id if desc else "container.enabled"
        return bool(self.repo.instance(name).values.get(key, False))

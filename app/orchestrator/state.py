"""What each instance is doing now, with the reason, in terms a person can read."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from enum import Enum

from app.engine.progress import PullProgress


class Phase(str, Enum):
    """The observable state of one instance."""

    DISABLED = "disabled"
    WAITING_FOR_ENGINE = "waiting for engine"
    PULLING = "pulling"
    STARTING = "starting"
    RUNNING = "running"
    RESTARTING = "restarting"
    EXITED = "exited"
    RETRY_WAIT = "retry-wait"
    STOPPED_BY_PERSON = "stopped"
    FAILED = "failed"
    CONFLICT = "conflict"
    REMOVING = "removing"
    STOPPING = "stopping"  # a stop was asked for; the engine is waiting for the process to end


@dataclass(frozen=True)
class InstanceStatus:
    """A snapshot of one instance's state; listeners receive a new one at each change."""

    name: str
    phase: Phase
    reason: str = ""
    container_id: str | None = None
    progress: PullProgress | None = None
    attempt: int = 0
    max_attempts: int = 0
    next_attempt_at: float | None = None
    restart_count: int = 0
    exit_code: int | None = None
    since: float = field(default_factory=time.time)
    # When the engine started the current container (its State.StartedAt), so a relaunched
    # Moorings shows the container's own start, not its own.
    started_at: float | None = None

    def with_(self, **changes: object) -> InstanceStatus:
        if "phase" in changes and changes["phase"] != self.phase:
            changes.setdefault("since", time.time())
        return replace(self, **changes)  # type: ignore[arg-type]

    def summary(self) -> str:
        """One line for a badge tooltip, a status line or a log."""
        text = self.phase.value
        if self.phase is Phase.PULLING and self.progress and self.progress.total:
            text += f" {100 * self.progress.current // max(self.progress.total, 1)}%"
        if self.phase is Phase.RETRY_WAIT and self.next_attempt_at is not None:
            left = max(0, round(self.next_attempt_at - time.time()))
            of = f" of {self.max_attempts}" if self.max_attempts else ""
            text += f" (attempt {self.attempt + 1}{of} in {left} s)"
        if self.restart_count:
            text += f", restarted {self.restart_count}x"
        return f"{text}: {self.reason}" if self.reason else text


@dataclass(frozen=True)
class EnforcementStatus:
    """The allowlist enforcement: ``enabled`` in the settings; ``checking`` when it could check
    every running container (when False while enabled, no new container is created and
    ``reason`` says why); ``stopped`` the containers it stopped (names), most recent last."""

    enabled: bool
    checking: bool = True
    reason: str = ""
    stopped: tuple[str, ...] = ()
    checked_at: float | None = None

    def summary(self) -> str:
        if not self.enabled:
            return "enforcement off"
        if not self.checking:
            return f"enforcement cannot check: {self.reason}"
        return "enforcement on" + (f": {self.reason}" if self.reason else "")

"""The status board: the one place that holds each instance's status, publishes state events,
and writes the history and the log line of each change."""

from __future__ import annotations

import logging
import threading

from app.orchestrator.events import EventHub, StateChanged
from app.orchestrator.history import History
from app.orchestrator.state import InstanceStatus, Phase

log = logging.getLogger(__name__)


class StatusBoard:
    """Statuses by instance name; read from any thread, written by the reconcile thread."""

    def __init__(self, hub: EventHub, history: History) -> None:
        self._hub = hub
        self.history = history
        self._lock = threading.Lock()
        self._statuses: dict[str, InstanceStatus] = {}

    def get(self, name: str) -> InstanceStatus | None:
        with self._lock:
            return self._statuses.get(name)

    def or_new(self, name: str) -> InstanceStatus:
        with self._lock:
            return self._statuses.get(name) or InstanceStatus(name, Phase.DISABLED)

    def all(self) -> dict[str, InstanceStatus]:
        with self._lock:
            return dict(self._statuses)

    def set(self, status: InstanceStatus, *, record: bool = True,
            entry: str | None = None) -> None:
        """Publish ``status``; a new phase or reason also goes to the history (as ``entry``, by
        default the phase) and the log."""
        with self._lock:
            old = self._statuses.get(status.name)
            self._statuses[status.name] = status
        if old == status:
            return
        changed = old is None or old.phase != status.phase or old.reason != status.reason
        if record and changed:
            self.history.add(status.name, entry or status.phase.value,
                             status.reason or status.phase.value)
            log.info("%s: %s", status.name, status.summary())
        self._hub.emit(StateChanged(status))

    def note(self, name: str, kind: str, message: str) -> None:
        """A history entry that is not a change of status (created, applied, pulled...)."""
        self.history.add(name, kind, message)

    def forget(self, name: str) -> bool:
        """Drop the instance's status and history; whether it had a status."""
        with self._lock:
            known = self._statuses.pop(name, None) is not None
        self.history.forget(name)
        return known

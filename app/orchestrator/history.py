"""A bounded timeline of what happened to each instance, when, and why."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HistoryEntry:
    kind: str  # created, pulled, started, exited, restarted, stopped, failed, reconnect, ...
    message: str
    time: float = field(default_factory=time.time)


class History:
    """Per-instance ring buffers; old entries fall off so memory stays bounded."""

    def __init__(self, limit: int = 200) -> None:
        self._limit = limit
        self._entries: dict[str, deque[HistoryEntry]] = {}
        self._lock = threading.Lock()

    def add(self, name: str, kind: str, message: str) -> HistoryEntry:
        entry = HistoryEntry(kind, message)
        with self._lock:
            self._entries.setdefault(name, deque(maxlen=self._limit)).append(entry)
        return entry

    def entries(self, name: str) -> list[HistoryEntry]:
        with self._lock:
            return list(self._entries.get(name, ()))

    def forget(self, name: str) -> None:
        with self._lock:
            self._entries.pop(name, None)

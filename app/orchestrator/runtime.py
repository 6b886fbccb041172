"""Small run-time facts kept beside the configuration: the store id and who stopped what."""

from __future__ import annotations

import json
import secrets
import threading
from pathlib import Path

from app.config.atomic import atomic_write, read_bytes

STORE_ID_NAME = "store-id"
RUNTIME_NAME = "runtime.json"


def store_id(folder: Path) -> str:
    """The id that our container labels carry, so two configurations never take each other's.

    Made once and kept: losing it would make our own containers look foreign (which is safe:
    they are then left alone and reported as conflicts, never removed).
    """
    path = folder / STORE_ID_NAME
    data = read_bytes(path)
    if data:
        text = data.decode("ascii", errors="replace").strip()
        if text:
            return text
    new = secrets.token_hex(8)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(path, (new + "\n").encode("ascii"), 0o644)
    return new


class RuntimeState:
    """Instances whose container a person stopped on purpose; survives restarts of Moorings."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / RUNTIME_NAME
        self._lock = threading.Lock()
        self._stopped: set[str] = set()
        raw = read_bytes(self._path)
        if raw:
            try:
                doc = json.loads(raw)
                names = doc.get("stopped_by_person", []) if isinstance(doc, dict) else []
                self._stopped = {n for n in names if isinstance(n, str)}
            except (ValueError, UnicodeDecodeError):
                # Losing this only means a stopped container is started again at restore;
                # the configuration itself is elsewhere and untouched.
                self._stopped = set()

    def stopped_by_person(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._stopped)

    def set_stopped(self, name: str, stopped: bool) -> None:
        with self._lock:
            before = set(self._stopped)
            if stopped:
                self._stopped.add(name)
            else:
                self._stopped.discard(name)
            if before == self._stopped:
                return
            doc = {"stopped_by_person": sorted(self._stopped)}
            self._path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self._path, json.dumps(doc).encode("utf-8"), 0o644)

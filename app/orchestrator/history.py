"""A bounded timeline of what happened to each instance, when, and why, kept on disk so that it
survives a restart of Moorings (the question it answers, "why did it restart?", often spans one).

Each instance has a file of JSON lines in ``<config folder>/history/``: an entry is one appended
line (no fsync: losing the last lines to a power cut is acceptable, stalling is not), and the file
is rewritten atomically with its newest entries once it holds twice the limit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from app import threadguard as guard
from app.config.atomic import atomic_write
from app.config.folder import read_regular
from app.errors import StoreError

log = logging.getLogger(__name__)

HISTORY_DIR = "history"
SUFFIX = ".jsonl"
FILE_MODE = 0o600


@dataclass(frozen=True)
class HistoryEntry:
    kind: str  # created, pulled, started, exited, restarted, stopped, failed, reconnect, ...
    message: str
    time: float = field(default_factory=time.time)

    def to_line(self) -> bytes:
        doc = {"t": round(self.time, 3), "k": self.kind, "m": self.message}
        return (json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")


def _entry(line: bytes) -> HistoryEntry | None:
    try:
        doc = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    t, k, m = doc.get("t"), doc.get("k"), doc.get("m")
    if not isinstance(t, (int, float)) or isinstance(t, bool) or not isinstance(k, str) \
            or not isinstance(m, str):
        return None
    return HistoryEntry(k, m, float(t))


class History:
    """Per-instance ring buffers in memory, mirrored to one file per instance when ``folder``
    is given. Writing never raises: a disk that refuses is logged once and memory goes on."""

    def __init__(self, folder: Path | None = None, names: Iterable[str] = (),
                 limit: int = 200) -> None:
        self._limit = limit
        self._entries: dict[str, deque[HistoryEntry]] = {}
        self._lines: dict[str, int] = {}
        self._lock = threading.Lock()
        self._folder = folder / HISTORY_DIR if folder is not None else None
        self._complained: set[str] = set()
        if self._folder is not None:
            self._load(set(names))

    # -- reading ---------------------------------------------------------------------------
    def entries(self, name: str) -> list[HistoryEntry]:
        with self._lock:
            return list(self._entries.get(name, ()))

    def _path(self, name: str) -> Path:
        assert self._folder is not None
        return self._folder / f"{name}{SUFFIX}"

    def _load(self, names: set[str]) -> None:
        assert self._folder is not None
        try:
            files = [p for p in self._folder.iterdir() if p.name.endswith(SUFFIX)]
        except FileNotFoundError:
            return
        except OSError as exc:
            self._complain("read", f"the history folder {self._folder} cannot be read: "
                                   f"{exc.strerror or exc}")
            return
        for path in files:
            name = path.name[: -len(SUFFIX)]
            if name not in names:
                # The instance was deleted while this history was not looked after.
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            try:
                raw = read_regular(path) or b""
            except (OSError, StoreError) as exc:
                self._complain("read", f"the history of {name} cannot be read: {exc}")
                continue
            ring: deque[HistoryEntry] = deque(maxlen=self._limit)
            lines = raw.splitlines()
            for line in lines:
                entry = _entry(line)
                if entry is not None:
                    ring.append(entry)
            self._entries[name] = ring
            self._lines[name] = len(lines)

    # -- writing ---------------------------------------------------------------------------
    def add(self, name: str, kind: str, message: str) -> HistoryEntry:
        entry = HistoryEntry(kind, message)
        with self._lock:
            ring = self._entries.setdefault(name, deque(maxlen=self._limit))
            ring.append(entry)
            if self._folder is not None:
                self._persist(name, entry, ring)
        return entry

    def _persist(self, name: str, entry: HistoryEntry, ring: deque[HistoryEntry]) -> None:
        guard.check()
        assert self._folder is not None
        lines = self._lines.get(name, 0) + 1
        try:
            if lines > 2 * self._limit:
                # Keep the file bounded: its newest entries, replaced whole.
                atomic_write(self._path(name), b"".join(e.to_line() for e in ring), FILE_MODE)
                lines = len(ring)
            else:
                self._folder.mkdir(mode=0o700, exist_ok=True)
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW \
                    | getattr(os, "O_CLOEXEC", 0)
                fd = os.open(self._path(name), flags, FILE_MODE)
                try:
                    os.write(fd, entry.to_line())
                finally:
                    os.close(fd)
        except OSError as exc:
            self._complain("write", f"the history of {name} could not be saved in "
                                    f"{self._folder}: {exc.strerror or exc}; it is kept in "
                                    "memory until Moorings stops")
            return
        self._lines[name] = lines

    def forget(self, name: str) -> None:
        with self._lock:
            self._entries.pop(name, None)
            self._lines.pop(name, None)
            if self._folder is not None:
                with contextlib.suppress(OSError):
                    self._path(name).unlink()

    def _complain(self, what: str, sentence: str) -> None:
        # Once per kind of failure: a full disk must not flood the log with a line per event.
        if what not in self._complained:
            self._complained.add(what)
            log.warning("%s", sentence)

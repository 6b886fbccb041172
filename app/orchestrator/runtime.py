"""Small run-time facts kept beside the configuration: the store id, who stopped what, and the
configuration revision the running orchestrator has taken up (a `config import` waits for it)."""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from pathlib import Path

from app.config.atomic import atomic_write
from app.config.folder import read_regular
from app.errors import StoreError

log = logging.getLogger(__name__)

STORE_ID_NAME = "store-id"
RUNTIME_NAME = "runtime.json"


def store_id(folder: Path) -> str:
    """The id that our container labels carry, so two configurations never take each other's.

    Made once and kept: losing it would make our own containers look foreign (which is safe:
    they are then left alone and reported as conflicts, never removed). Raises StoreError when
    it can be neither read nor made.
    """
    path = folder / STORE_ID_NAME
    try:
        data = read_regular(path)
    except OSError as exc:
        raise StoreError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    if data:
        text = data.decode("ascii", errors="replace").strip()
        if text:
            return text
    new = secrets.token_hex(8)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(path, (new + "\n").encode("ascii"), 0o644)
    except OSError as exc:
        raise StoreError(
            f"Moorings cannot start in {folder}: it could not create {path} "
            f"({exc.strerror or exc}), the id its containers are labelled with."
        ) from None
    return new


def _read(path: Path) -> dict[str, object]:
    try:
        raw = read_regular(path)
    except (OSError, StoreError) as exc:
        log.warning("%s cannot be read (%s); who stopped what is forgotten", path, exc)
        return {}
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # Losing this only means a stopped container is started again at restore; the
        # configuration itself is elsewhere and untouched.
        return {}
    return doc if isinstance(doc, dict) else {}


def loaded_revision(folder: Path) -> tuple[int, int] | None:
    """(process id, revision) the running orchestrator of ``folder`` last took up, if any."""
    doc = _read(folder / RUNTIME_NAME)
    loaded = doc.get("loaded")
    if not isinstance(loaded, dict):
        return None
    pid, revision = loaded.get("pid"), loaded.get("revision")
    if isinstance(pid, int) and isinstance(revision, int):
        return pid, revision
    return None


class RuntimeState:
    """Instances whose container a person stopped on purpose (survives restarts of Moorings),
    and the revision of the configuration taken up. A disk that refuses a write is logged and
    the state is kept in memory."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / RUNTIME_NAME
        self._lock = threading.Lock()
        doc = _read(self._path)
        names = doc.get("stopped_by_person", [])
        self._stopped = {n for n in names if isinstance(n, str)} if isinstance(names, list) \
            else set()
        self._loaded: dict[str, int] | None = None
        self._complained = False

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
            if before != self._stopped:
                self._save()

    def set_loaded(self, revision: int) -> None:
        """Say that this process has taken up the configuration up to ``revision``."""
        with self._lock:
            loaded = {"pid": os.getpid(), "revision": revision}
            if loaded != self._loaded:
                self._loaded = loaded
                self._save()

    def _save(self) -> None:
        doc: dict[str, object] = {"stopped_by_person": sorted(self._stopped)}
        if self._loaded is not None:
            doc["loaded"] = self._loaded
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self._path, json.dumps(doc).encode("utf-8"), 0o644)
        except OSError as exc:
            if not self._complained:
                self._complained = True
                log.warning("%s could not be saved (%s); who stopped what is kept in memory "
                            "until Moorings stops", self._path, exc.strerror or exc)
            return
        self._complained = False

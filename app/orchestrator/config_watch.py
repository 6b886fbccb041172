"""Notices configuration saves made by other processes (a `moorings config import` while the
window or headless mode runs) and hands them to the orchestrator within about a second."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.config.repository import Changes, ConfigRepository
from app.errors import StoreError

log = logging.getLogger(__name__)

POLL_S = 1.0


class ConfigWatcher:
    """A thread that compares moorings.json's fingerprint once a second (one ``lstat``) and,
    when it changed, takes the new files into the repository's snapshot."""

    def __init__(self, repo: ConfigRepository, on_change: Callable[[Changes], None],
                 interval_s: float = POLL_S) -> None:
        self._repo = repo
        self._on_change = on_change
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="moorings-config-watch",
                                        daemon=True)
        self._last = repo.store.signature()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.check()
            except Exception:
                log.exception("looking for configuration changes failed")

    def check(self) -> None:
        signature = self._repo.store.signature()
        if signature != self._last:
            self._last = signature
            try:
                self._repo.refresh()
            except StoreError as exc:
                log.warning("the configuration changed on disk but cannot be read: %s", exc)
        for warning in self._repo.take_warnings():
            log.warning("%s", warning)
        # Also what a save of ours found on disk (another process saved just before it).
        changes = self._repo.take_changes()
        if changes:
            self._on_change(changes)

"""The composition root: the core built once, the same way, for headless mode, the window, the
benchmarks and a plugin (the folder's lock, the repository, the orchestrator, the inventory, the
cloud link)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import StoreError

if TYPE_CHECKING:
    from app.config.repository import ConfigRepository
    from app.inventory.feed import Inventory
    from app.orchestrator.lock import FolderLock
    from app.orchestrator.service import Orchestrator
    from app.remote.manager import RemoteManager


@dataclass
class Core:
    """What runs one configuration folder. :meth:`start` and :meth:`stop` in that order."""

    folder: Path
    repository: ConfigRepository
    orchestrator: Orchestrator
    inventory: Inventory | None = None
    lock: FolderLock | None = None
    warnings: list[str] = field(default_factory=list)
    remote: RemoteManager | None = None

    def start(self) -> None:
        self.orchestrator.start()
        if self.inventory is not None:
            self.inventory.start()
        if self.remote is not None:
            self.remote.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the threads (the containers keep running) and let the folder go."""
        if self.remote is not None:
            self.remote.stop(min(timeout, 3.0))  # DC and a clean disconnect first
        if self.inventory is not None:
            self.inventory.stop(0)
        self.orchestrator.stop(timeout=timeout)
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def build_core(folder: Path, *, claim: bool = True, inventory: bool = False,
               lock: FolderLock | None = None, remote: bool = True,
               **orchestrator_options: Any) -> Core:
    """Build (not start) the core of ``folder``. Raises StoreError with a sentence.

    ``claim`` takes the folder's lock (one Moorings per folder) unless ``lock`` is one already
    held (the window takes it before its first frame); ``inventory`` adds the live container
    and image inventory (the window's); ``remote`` the cloud link (remote management over
    MQTT, off the broker until its settings enable it); ``orchestrator_options`` go to the
    Orchestrator (``periodic_interval_s``, ``engines``...). Reads the disk: call it off a GUI
    thread.
    """
    from app.config.repository import ConfigRepository
    from app.config.store import ConfigStore
    from app.metatype import load_catalog
    from app.orchestrator.lock import claim_folder
    from app.orchestrator.service import Orchestrator

    if claim and lock is None:
        lock = claim_folder(folder)
    try:
        repo = ConfigRepository(ConfigStore(folder), load_catalog())
        orch = Orchestrator(repo, **orchestrator_options)
    except StoreError:
        if lock is not None:
            lock.release()
        raise
    inv = None
    if inventory:
        from app.inventory.feed import Inventory

        inv = Inventory(orch)
    cloud = None
    if remote:
        from app.remote.setup import build_remote

        cloud = build_remote(orch, inv)
    return Core(folder, repo, orch, inv, lock, list(repo.load_warnings), cloud)

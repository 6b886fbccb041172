"""The remote part of the core, built once: the manager and the applications it serves."""

from __future__ import annotations

from app.orchestrator.service import Orchestrator
from app.remote.manager import RemoteManager


def build_remote(orchestrator: Orchestrator) -> RemoteManager:
    """The cloud link of ``orchestrator``'s folder with Kura's applications and Moorings' own;
    not started (it stays off the broker until its settings enable it)."""
    from app.remote.conf_v1 import ConfV1
    from app.remote.inventory_v1 import InventoryV1
    from app.remote.moorings_v1 import MooringsV1

    manager = RemoteManager(orchestrator)
    manager.register(ConfV1(orchestrator))
    manager.register(InventoryV1(orchestrator))
    manager.register(MooringsV1(orchestrator, manager.publish, manager.identity))
    return manager

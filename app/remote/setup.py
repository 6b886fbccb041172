"""The remote part of the core, built once: the manager and the applications it serves."""

from __future__ import annotations

from app.inventory.feed import Inventory
from app.orchestrator.service import Orchestrator
from app.remote.manager import RemoteManager


def build_remote(orchestrator: Orchestrator, inventory: Inventory | None = None
                 ) -> RemoteManager:
    """The cloud link of ``orchestrator``'s folder with Kura's applications and Moorings' own;
    not started (it stays off the broker until its settings enable it). ``inventory`` is the
    window's live inventory; without one (headless) the link has its own, started once it
    first connects."""
    from app.remote.conf_v1 import ConfV1
    from app.remote.inventory_v1 import InventoryV1
    from app.remote.moorings_v1 import MooringsV1

    manager = RemoteManager(orchestrator)
    feed = inventory
    if feed is None:
        feed = Inventory(orchestrator)
        manager.own_feed(feed)
    manager.register(ConfV1(orchestrator))
    manager.register(InventoryV1(orchestrator, feed))
    manager.register(MooringsV1(orchestrator, manager.publish, manager.identity))
    return manager

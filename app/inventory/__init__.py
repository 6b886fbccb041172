"""The live inventory: every container and image on the engine, and container logs."""

from app.engine.log_stream import LogLine, LogStream, logs_readable
from app.inventory.feed import (
    FeedState,
    ImagesChanged,
    Inventory,
    InventoryEvent,
    InventoryListener,
    RowAdded,
    RowChanged,
    RowRemoved,
)
from app.inventory.logs import open_logs, save_logs
from app.inventory.rows import ContainerRow, ImageRow, PortInfo

__all__ = [
    "ContainerRow",
    "FeedState",
    "ImageRow",
    "ImagesChanged",
    "Inventory",
    "InventoryEvent",
    "InventoryListener",
    "LogLine",
    "LogStream",
    "PortInfo",
    "RowAdded",
    "RowChanged",
    "RowRemoved",
    "logs_readable",
    "open_logs",
    "save_logs",
]

"""What the live inventory publishes: a row added, changed or removed, the images, and how far
to trust the rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.inventory.rows import ContainerRow, ImageRow


@dataclass(frozen=True)
class RowAdded:
    row: ContainerRow


@dataclass(frozen=True)
class RowChanged:
    row: ContainerRow
    fields: frozenset[str]


@dataclass(frozen=True)
class RowRemoved:
    id: str


@dataclass(frozen=True)
class ImagesChanged:
    rows: tuple[ImageRow, ...]


@dataclass(frozen=True)
class FeedState:
    """How far to trust the rows: ``live`` (current), ``reconnecting`` (a full listing is under
    way), ``stale`` (the engine went away at ``since``: rows are what it last said), ``error``
    (no listing ever succeeded: there are no rows to show, ``reason`` says why)."""

    state: str
    since: float | None
    reason: str


InventoryEvent = RowAdded | RowChanged | RowRemoved | ImagesChanged | FeedState
InventoryListener = Callable[[InventoryEvent], None]

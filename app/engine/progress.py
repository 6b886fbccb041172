"""Pull progress as plain data: what the engine reported per layer and in total."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerProgress:
    """One layer as the engine last reported it. ``current``/``total`` are the engine's bytes
    for the layer's current phase (downloading, then extracting); ``total`` is 0 when unknown
    ("Already exists" layers, or before the first byte)."""

    id: str
    status: str
    current: int
    total: int


@dataclass(frozen=True)
class PullProgress:
    """The whole pull: ``current``/``total`` are bytes *downloaded* out of the bytes to
    download, summed over the layers whose size is known; a layer whose download finished
    counts in full, even while it is being extracted."""

    reference: str
    layers: tuple[LayerProgress, ...]
    current: int
    total: int

"""The engine's inventory in the GUI: every container and image, live, with logs and history.

``CoreBridge`` re-emits the core inventory's events on the GUI thread; ``ContainersPage``
and ``ImagesPage`` are pages for the main window's stack; ``LogsDialog``, ``TimelineView`` and
``PullProgressView`` are pieces the instance page can use too.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

# Colour by meaning, as ui/badges.py: green good, blue busy, amber waiting, red failed, grey idle.
GREEN, BLUE, AMBER, RED, PURPLE, GREY = (
    "#1b7f3b", "#1f5fbf", "#8a5300", "#b00020", "#7b1fa2", "#5f6368")
DASH = "—"


def state_colour(state: str, exit_code: int | None = None, health: str | None = None) -> str:
    """The colour of a container's engine state (``running``, ``exited``, ...)."""
    if state == "running":
        return RED if health == "unhealthy" else (BLUE if health == "starting" else GREEN)
    if state in ("restarting", "paused"):
        return AMBER
    if state == "exited":
        return GREY if exit_code in (0, None) else RED
    if state == "dead":
        return RED
    if state in ("created", "removing"):
        return BLUE
    return GREY


def human_size(n: float) -> str:
    """Bytes as the engine's own tools show them (decimal units): ``12.3 MB``."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover - the loop returns at GB


def clock(stamp: float | None, *, now: float | None = None, seconds: bool = True) -> str:
    """``hh:mm:ss`` for a time today, ``yyyy-mm-dd hh:mm`` otherwise; a dash for none."""
    if not stamp:
        return DASH
    local = time.localtime(stamp)
    today = time.localtime(time.time() if now is None else now)
    if local[:3] == today[:3]:
        return time.strftime("%H:%M:%S" if seconds else "%H:%M", local)
    return time.strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""), local)


def short_clock(stamp: float | None, *, now: float | None = None) -> str:
    """For a table cell: ``hh:mm`` today, ``dd Mon hh:mm`` this year, else ``yyyy-mm-dd``."""
    if not stamp:
        return DASH
    local = time.localtime(stamp)
    today = time.localtime(time.time() if now is None else now)
    if local[:3] == today[:3]:
        return time.strftime("%H:%M", local)
    if local[0] == today[0]:
        return time.strftime("%d %b %H:%M", local)
    return time.strftime("%Y-%m-%d", local)


def short_id(image_or_container_id: str) -> str:
    """The 12 hex digits people know an id by (without ``sha256:``)."""
    return image_or_container_id.split(":", 1)[-1][:12]


def join_nonempty(parts: Iterable[str], sep: str = ", ") -> str:
    return sep.join(p for p in parts if p)

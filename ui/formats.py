"""How the window writes times, sizes, ids and a container's state, for every page."""

from __future__ import annotations

import time

DASH = "—"


def state_tone(state: str, exit_code: int | None = None, health: str | None = None) -> str:
    """The tone (``ui.style.TONES``) of a container's engine state (``running``, ...)."""
    if state == "running":
        return "bad" if health == "unhealthy" else ("busy" if health == "starting" else "good")
    if state in ("restarting", "paused"):
        return "waiting"
    if state == "exited":
        return "idle" if exit_code in (0, None) else "bad"
    if state == "dead":
        return "bad"
    if state in ("created", "removing"):
        return "busy"
    return "idle"


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


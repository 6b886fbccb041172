"""How an instance's state looks: a short badge word, its colour, and the line under it."""

from __future__ import annotations

from PySide6.QtGui import QColor

from app.orchestrator.state import InstanceStatus, Phase
from ui import style
from ui.formats import clock


def badge_text(status: InstanceStatus | None) -> str:
    if status is None:
        return "disabled"
    phase = status.phase
    if phase is Phase.PULLING:
        p = status.progress
        if p is not None and p.total:
            return f"pulling {100 * p.current // max(p.total, 1)}%"
        return "pulling"
    if phase is Phase.EXITED and status.exit_code is not None:
        return f"exited ({status.exit_code})"
    if phase is Phase.WAITING_FOR_ENGINE:
        return "waiting"
    return str(phase.value)


def badge_key(status: InstanceStatus | None) -> str:
    """The value of the ``badge`` style property (see resources/styles/moorings.qss): the
    phase's name, and ``exited-clean`` for an exit with code 0 (not an alarm)."""
    phase = status.phase if status is not None else Phase.DISABLED
    if phase is Phase.EXITED and status is not None and status.exit_code == 0:
        return "exited-clean"
    name: str = phase.name
    return name.lower().replace("_", "-")


def badge_colour(status: InstanceStatus | None) -> QColor:
    """The badge's colour where Python paints it (the tree's pills); the style sheet paints
    the page's badge in the same colour, by its ``badge`` property."""
    return QColor(style.badge_colour(badge_key(status)))


def _clock(stamp: float) -> str:
    """``hh:mm:ss`` today, with the date before it on any other day (a container adopted
    after a restart of Moorings may have run for weeks)."""
    return clock(stamp)


def status_sentence(status: InstanceStatus | None) -> str:
    """The line under the title: what is happening, since when, and what to do if stuck."""
    if status is None or status.phase is Phase.DISABLED:
        return ("Disabled: no container runs. Switch Enabled on and press Apply to run it.")
    phase, reason = status.phase, status.reason
    if phase is Phase.RUNNING:
        # The engine's own start of the container: a relaunched Moorings adopts a container
        # that has run for days, and must not say it started a minute ago.
        started = status.started_at if status.started_at is not None else status.since
        text = f"Running since {_clock(started)}"
        if status.container_id:
            text += f" (container {status.container_id[:12]})"
        if status.restart_count:
            text += f", restarted {status.restart_count} times after crashes"
        return text + (f"; {reason}." if reason else ".")
    if phase is Phase.EXITED:
        code = status.exit_code
        text = f"Exited with code {code} at {_clock(status.since)}" if code is not None \
            else f"Exited at {_clock(status.since)}"
        return text + ". Press Start to run it again."
    if phase is Phase.STOPPING:
        text = (f"Stopping since {_clock(status.since)}: waiting for the container's process "
                "to end (the engine ends it by force after its stop timeout)")
        return text + (f"; {reason}." if reason else ".")
    if phase is Phase.FAILED:
        text = f"Failed: {reason}" if reason else "Failed: Moorings has stopped trying."
        if not text.endswith("."):
            text += "."
        if "retry" not in text.lower():
            text += " Press Retry to try again with the stored settings."
        return text
    label = phase.value[:1].upper() + phase.value[1:]
    return f"{label}: {reason}" if reason else f"{label}."

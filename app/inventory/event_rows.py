"""What one engine event says of a container's row before the listing catches up: the row it
makes or changes, and what the listing must show once it agrees."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from app.inventory.rows import ContainerRow, ownership, split_image
from app.orchestrator.events import ContainerEvent

_HEALTH_SHOWN = {"healthy": "healthy", "unhealthy": "unhealthy", "starting": "health: starting"}
_SUFFIX = re.compile(r"\s*\((?:healthy|unhealthy|health: starting|Paused)\)\s*$")


def with_suffix(status: str, suffix: str | None) -> str:
    """``Up 5 minutes (healthy)`` with its bracketed ending replaced by ``(suffix)``."""
    base = _SUFFIX.sub("", status)
    return f"{base} ({suffix})" if suffix else base


def state_in(*states: str) -> Callable[[ContainerRow], bool]:
    return lambda row: row.state in states


def expectation(action: str, detail: str) -> Callable[[ContainerRow], bool] | None:
    """What the listing must show once it has caught up with an event (None: nothing to
    wait for)."""
    agrees: Callable[[ContainerRow], bool] | None = None
    if action == "create":
        agrees = state_in("created")
    elif action in ("start", "unpause", "restart"):
        agrees = state_in("running", "restarting")
    elif action == "die":
        agrees = state_in("exited", "dead", "restarting", "removing")
    elif action == "pause":
        agrees = state_in("paused")
    elif action == "health_status" and detail:
        agrees = lambda r: r.health == detail or r.state != "running"  # noqa: E731
    # stop, kill, rename...: nothing to wait for; an earlier expectation still holds.
    return agrees


def row_from_create(ev: ContainerEvent, store_id: str) -> ContainerRow:
    """The row a create event makes (the listing fills in the rest)."""
    # The event's attributes are the container's labels plus name and image.
    image, tag = split_image(ev.attributes.get("image", ""))
    managed, instance = ownership(ev.attributes, store_id)
    return ContainerRow(id=ev.container_id, name=ev.name or ev.container_id[:12],
                        image=image, tag=tag, state="created", exit_code=None, health=None,
                        ports=(), created=float(int(ev.time)), started=None,
                        instance=instance, managed=managed, status_text="Created")


def row_after_event(old: ContainerRow, ev: ContainerEvent, action: str,
                    detail: str) -> ContainerRow:
    """The row as ``ev`` leaves it (``action``: the event's action without its detail, as in
    ``health_status: healthy``); the status line changes with the state, in the engine's own
    words, so that the two never disagree on screen before the listing brings the engine's."""
    new = old
    if action == "start":
        new = replace(old, state="running", started=ev.time, exit_code=None,
                      health="starting" if old.health else None,
                      status_text="Up Less than a second" + (
                          " (health: starting)" if old.health else ""))
    elif action == "die":
        code = ev.attributes.get("exitCode", "")
        exit_code = int(code) if code.lstrip("-").isdigit() else None
        shown = f" ({exit_code})" if exit_code is not None else ""
        new = replace(old, state="exited", health=None, exit_code=exit_code,
                      status_text=f"Exited{shown} Less than a second ago")
    elif action == "pause":
        new = replace(old, state="paused", status_text=with_suffix(old.status_text,
                                                                      "Paused"))
    elif action == "unpause":
        new = replace(old, state="running", status_text=with_suffix(
            old.status_text, _HEALTH_SHOWN.get(old.health or "")))
    elif action == "health_status" and detail in _HEALTH_SHOWN:
        new = replace(old, health=detail, status_text=with_suffix(
            old.status_text, _HEALTH_SHOWN[detail]))
    elif action == "rename" and ev.attributes.get("name"):
        new = replace(old, name=ev.attributes["name"].lstrip("/"))
    return new

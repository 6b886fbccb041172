"""The window's sizes and colours that Python code needs (the rest is in moorings.qss).

Widgets are styled by resources/styles/moorings.qss through object names and dynamic
properties; what Qt paints from Python (the tree's badge pills, the tables' state cells, the
switch, the log's stderr lines) takes its colours from here. The two agree: tests compare the
badge colours below with the style sheet's rules for the same badges. No other module of ui/
holds a colour or a touch size. Plain values only: the window imports this before its first
frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

TOUCH_MIN = 44
"""The least height (and width, for buttons) of anything a finger has to hit, in pixels."""
ROW_HEIGHT = 48
"""A row of the tree or a table: the 44 px a finger needs, plus a little air."""
BUTTON_MIN_WIDTH = 88
"""An action button of the inventory (Start, Stop, Remove...): wide enough for its word."""

# Colour by meaning, readable on a grey panel in sunlight: green good, blue busy, amber
# waiting, red failed, purple needs a person, grey idle. Each carries white text (a pill) and
# is dark enough to be read as text on white.
GOOD = "#1b7f3b"
BUSY = "#1f5fbf"
WAITING = "#8a5300"
BAD = "#b00020"
PERSON = "#7b1fa2"
IDLE = "#5f6368"

TONES: dict[str, str] = {"good": GOOD, "busy": BUSY, "waiting": WAITING, "bad": BAD,
                         "person": PERSON, "idle": IDLE}
"""The ``tone`` property of a pill or a word (see moorings.qss) and its colour."""

TEXT = "#1c1f23"
MUTED = "#4a4f57"
INFO = "#1f3b73"      # an informative sentence (not an error)
ACCENT = "#0b5cad"    # focus, the switch when on, a link-like button
SWITCH_OFF = "#6b7079"
WHITE = "#ffffff"
STDERR = "#9c2b00"    # a container's stderr lines in its log

BADGE_TONES: dict[str, str] = {
    "running": "good",
    "pulling": "busy", "starting": "busy", "removing": "busy", "stopping": "busy",
    "restarting": "waiting", "retry-wait": "waiting", "waiting-for-engine": "waiting",
    "failed": "bad", "exited": "bad",
    "conflict": "person",
    "exited-clean": "idle", "stopped-by-person": "idle", "disabled": "idle",
}
"""The ``badge`` property of an instance's state badge (ui/services/badges.py) and its tone."""


def badge_colour(key: str) -> str:
    """The colour of the badge ``key`` (grey for one this table does not know)."""
    return TONES[BADGE_TONES.get(key, "idle")]


def set_style_property(widget: QWidget, name: str, value: object) -> None:
    """Set a property the style sheet selects on (``badge``, ``tone``, ``role``...) and apply
    its rules: cheaper than a style sheet of the widget's own, which rebuilds its style each
    time it is set."""
    if widget.property(name) == value:
        return
    widget.setProperty(name, value)
    repolish(widget)


def repolish(widget: QWidget) -> None:
    """Apply the style rules that depend on a property just changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()

"""The engine's times (RFC 3339 with nanoseconds) as Unix times."""

from __future__ import annotations

import calendar
import re

_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:?\d\d)?")


def parse_rfc3339(text: str) -> float | None:
    """Epoch seconds of the engine's RFC 3339 time (nanoseconds allowed; Python 3.10's
    fromisoformat takes neither ``Z`` nor nine digits). None for the engine's zero time
    (``0001-01-01T00:00:00Z``: never happened) or text that is no time."""
    m = _RFC3339.match(text.strip())
    if not m:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    if year <= 1:
        return None
    epoch = float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))
    if m.group(7):
        epoch += float("0." + m.group(7))
    zone = m.group(8)
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        epoch -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return epoch

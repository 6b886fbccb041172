"""The event loop's stalls, measured by a 5 ms timer: the gaps between its ticks."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QTimer

TICK_MS = 5


class StallMeter:
    """Start it, run the work while pumping events, stop it; ``gaps`` are in milliseconds."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._last = 0

    def start(self) -> None:
        self._clock.start()
        self._last = self._clock.nsecsElapsed()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed()
        self.gaps.append((now - self._last) / 1e6)
        self._last = now

    def longest_stall(self) -> float:
        return max(self.gaps) - TICK_MS if self.gaps else 0.0

    def percentile_stall(self, p: float) -> float:
        if not self.gaps:
            return 0.0
        s = sorted(self.gaps)
        return s[min(len(s) - 1, round(p * (len(s) - 1)))] - TICK_MS

"""The event loop's stalls, measured by a 5 ms timer: the gaps between its ticks.

With ``MOORINGS_STALL_EXPLAIN=1`` a sampler thread also records where the GUI thread was
(its Python stack) during each stall over 20 ms, and :meth:`StallMeter.explain` prints the
longest ones with what the kernel says of that time (Linux): how long the GUI thread ran, how
long it was ready but waited for a CPU, and how long the hypervisor took the machine's CPUs
away (steal). The sampler takes the GIL every 2 ms, so leave it off for the figures.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import TextIO

from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

TICK_MS = 5
_EXPLAIN_OVER_MS = 20


def _cpu_by_thread() -> dict[str, float]:
    """CPU seconds used so far by each Python thread of this process (Linux)."""
    out: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            with open(f"/proc/self/task/{thread.native_id}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        out[thread.name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def _sched() -> tuple[float, float]:
    """The calling thread's (ms run, ms ready but waiting for a CPU) so far (Linux)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            ran, waited, _ = f.read().split()
    except (OSError, ValueError):
        return 0.0, 0.0
    return int(ran) / 1e6, int(waited) / 1e6


def _steal() -> float:
    """Milliseconds of CPU the hypervisor has taken from this machine, all CPUs (Linux)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return 0.0
    return int(fields[8]) * 1000 / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


class StallMeter:
    """Start it, run the work while pumping events, stop it; ``gaps`` are in milliseconds."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._last = 0
        self._explain = os.environ.get("MOORINGS_STALL_EXPLAIN") == "1"
        self._depth = int(os.environ.get("MOORINGS_STALL_DEPTH", "6"))  # frames per sample
        self._last_tick = time.monotonic()
        self._samples: dict[float, list[str]] = collections.defaultdict(list)
        self._stalls: list[tuple[float, float, float, float, float, float]] = []
        self._cpu = (0.0, 0.0)
        self._kernel = (0.0, 0.0, 0.0)  # GUI thread ran, waited for a CPU; machine steal
        self._sampling = threading.Event()
        self._main = threading.get_ident()
        self._threads_at_start: dict[str, float] = {}
        self._threads_at_stop: dict[str, float] = {}

    def start(self) -> None:
        self._threads_at_start = _cpu_by_thread()
        self._clock.start()
        self._last = self._clock.nsecsElapsed()
        self._last_tick = time.monotonic()
        self._cpu = (time.thread_time(), time.process_time())
        self._kernel = (*_sched(), _steal())
        self._timer.start()
        if self._explain:
            self._sampling.set()
            threading.Thread(target=self._sample, name="stall-sampler", daemon=True).start()

    def stop(self) -> None:
        self._timer.stop()
        self._sampling.clear()
        self._threads_at_stop = _cpu_by_thread()

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed()
        gap = (now - self._last) / 1e6
        self.gaps.append(gap)
        self._last = now
        if self._explain:
            cpu = (time.thread_time(), time.process_time())
            kernel = (*_sched(), _steal())
            if gap - TICK_MS > _EXPLAIN_OVER_MS:
                self._stalls.append((gap, self._last_tick, (cpu[0] - self._cpu[0]) * 1000,
                                     (cpu[1] - self._cpu[1]) * 1000,
                                     kernel[1] - self._kernel[1], kernel[2] - self._kernel[2]))
            self._cpu = cpu
            self._kernel = kernel
            self._last_tick = time.monotonic()

    def _sample(self) -> None:
        while self._sampling.is_set():
            time.sleep(0.002)
            since = self._last_tick
            if (time.monotonic() - since) * 1000 < _EXPLAIN_OVER_MS:
                continue
            frame = sys._current_frames().get(self._main)
            if frame is not None:
                stack = traceback.format_stack(frame)[-self._depth:]
                self._samples[since].append("".join(stack))

    def explain(self, top: int = 5, file: TextIO = sys.stdout) -> None:
        """Print each thread's CPU while measuring, and where the GUI thread was during the
        ``top`` longest stalls."""
        if not self._explain:
            return
        for name, cpu in sorted(self._threads_at_stop.items()):
            print(f"  thread {name}: {cpu - self._threads_at_start.get(name, 0.0):.2f} s CPU",
                  file=file)
        for gap, since, gui_cpu, all_cpu, waited, steal in sorted(self._stalls,
                                                                  reverse=True)[:top]:
            print(f"--- stall of {gap - TICK_MS:.1f} ms: the GUI thread ran {gui_cpu:.0f} ms and "
                  f"waited {waited:.0f} ms for a CPU, the process ran {all_cpu:.0f} ms, the "
                  f"hypervisor took {steal:.0f} ms of CPU; {len(self._samples[since])} samples",
                  file=file)
            for stack, n in collections.Counter(self._samples[since]).most_common(3):
                print(f"  [{n}x]\n{stack}", file=file)

    def longest_stall(self) -> float:
        return max(self.gaps) - TICK_MS if self.gaps else 0.0

    def over(self, ms: float) -> int:
        """How many gaps were stalls longer than ``ms``."""
        return sum(1 for g in self.gaps if g - TICK_MS > ms)

    def summary(self) -> str:
        return (f"{len(self.gaps)} ticks of {TICK_MS} ms, longest stall "
                f"{self.longest_stall():.1f} ms, p99 {self.percentile_stall(0.99):.1f} ms, "
                f"stalls over 50 ms: {self.over(50)}, over 30 ms: {self.over(30)}")

    def percentile_stall(self, p: float) -> float:
        if not self.gaps:
            return 0.0
        s = sorted(self.gaps)
        return s[min(len(s) - 1, round(p * (len(s) - 1)))] - TICK_MS


def run_loop_until(done: Callable[[], bool], timeout_s: float, poll_ms: int = 20) -> bool:
    """Run a real Qt event loop (as the app's ``exec()`` does, sleeping until there is work)
    until ``done()`` or the timeout; a busy ``processEvents()`` loop would itself load the
    GUI thread it measures."""
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    result = [False]

    def check() -> None:
        if done():
            result[0] = True
            loop.quit()
        elif time.monotonic() > deadline:
            loop.quit()
    timer = QTimer()
    timer.setInterval(poll_ms)
    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    return result[0]

"""The window's CPU priority: the screen answers a tap while the engine keeps the CPUs busy."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Starting and removing containers a few at a time keeps a small gateway's CPUs busy; at the
# kernel's normal share the window then waits up to 60 ms for a CPU between two frames. Five
# steps of nice give it about three times the share of a normal process, which is enough for
# a frame every few milliseconds and leaves the engine nearly all of the CPU the window does
# not use (it mostly sleeps).
WINDOW_NICE = -5

AUTOGROUP = Path("/proc/self/autogroup")
AUTOGROUP_ENABLED = Path("/proc/sys/kernel/sched_autogroup_enabled")

_HOW_TO_ALLOW = ("allow it with CAP_SYS_NICE, or a nice limit of {nice} for the user "
                 "(limits.conf 'nice', or LimitNICE= in a system unit)")


def _autogroup_nice() -> int | None:
    """The nice value of this process's session group, when the kernel shares CPU between
    sessions (autogroups) rather than by cgroup; ``None`` otherwise."""
    try:
        if AUTOGROUP_ENABLED.read_text().strip() != "1":
            return None
        # "/autogroup-25475 nice 0"
        return int(AUTOGROUP.read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def raise_window_priority(nice: int = WINDOW_NICE) -> str:
    """Give this process (threads started from now on inherit it) and, where the kernel
    groups processes by session, its session group the CPU priority ``nice``.

    Call it on the main thread before other threads start. A priority someone already chose
    (a nice value other than 0, as ``nice -n 10 moorings`` sets) is kept. Returns a sentence
    for the log saying what the window got, and what to do when it could not be raised.
    """
    if not sys.platform.startswith("linux"):
        return "the window runs at the normal CPU priority (raising it is done on Linux only)"
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if current != 0:
        return f"the window keeps the CPU priority it was started with (nice {current})"
    try:
        # On Linux this is the calling thread; the threads it starts later inherit it.
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    except PermissionError:
        return ("the window runs at the normal CPU priority, so it may answer late while the "
                "engine keeps every CPU busy; " + _HOW_TO_ALLOW.format(nice=nice))
    group = _autogroup_nice()
    if group == 0:
        try:
            # Sessions share the CPU as groups: without this the window's share stays one
            # session's, however its own processes are prioritised.
            AUTOGROUP.write_text(str(nice))
        except OSError:
            return (f"the window runs at nice {nice}, but its session's share of the CPU "
                    "could not be raised")
        return (f"the window runs at nice {nice}, and so does its session's share of the CPU "
                "(programs started from the same terminal share it)")
    return f"the window runs at nice {nice}"

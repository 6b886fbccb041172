"""A tripwire for engine calls made on a thread that must never wait on the engine."""

from __future__ import annotations

import threading

_forbidden: set[int] = set()
_lock = threading.Lock()


class ForbiddenThreadError(RuntimeError):
    """An engine call was made on a thread that must stay responsive (the GUI thread)."""


def forbid_current_thread() -> None:
    """Mark the calling thread (the GUI thread) as one that must never call the engine."""
    with _lock:
        _forbidden.add(threading.get_ident())


def allow_current_thread() -> None:
    with _lock:
        _forbidden.discard(threading.get_ident())


def check() -> None:
    """Raise if the current thread is forbidden; every engine adapter calls this first."""
    if threading.get_ident() in _forbidden:
        raise ForbiddenThreadError(
            f"engine call on the forbidden thread {threading.current_thread().name}")

"""A tripwire for engine calls and file writes made on a thread that must never wait (the GUI's)."""

from __future__ import annotations

import threading

_forbidden: set[int] = set()
_lock = threading.Lock()


class ForbiddenThreadError(RuntimeError):
    """An engine call or a file write was made on a thread that must stay responsive."""


def forbid_current_thread() -> None:
    """Mark the calling thread (the GUI thread) as one that must never wait on engine or disk."""
    with _lock:
        _forbidden.add(threading.get_ident())


def allow_current_thread() -> None:
    with _lock:
        _forbidden.discard(threading.get_ident())


def check() -> None:
    """Raise if the current thread is forbidden; engine adapters and file writes call this."""
    if threading.get_ident() in _forbidden:
        raise ForbiddenThreadError(
            f"blocking call (engine or disk) on the forbidden thread "
            f"{threading.current_thread().name}")

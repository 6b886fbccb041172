"""Requests to the reconcile thread: each carries a future for its caller and a priority."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

# Lower runs first: a person's action overtakes routine passes and engine chatter.
PRIORITY_SHUTDOWN = 0
PRIORITY_PERSON = 1
PRIORITY_API = 2
PRIORITY_ENGINE = 3

_seq = itertools.count()


@dataclass
class Command:
    """Run ``fn`` on the reconcile thread and settle ``future`` with its result."""

    fn: Callable[[], Any]
    priority: int = PRIORITY_API
    label: str = ""
    future: Future[Any] = field(default_factory=Future)
    seq: int = field(default_factory=lambda: next(_seq))

    def __lt__(self, other: Command) -> bool:
        return (self.priority, self.seq) < (other.priority, other.seq)

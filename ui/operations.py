"""Where every Future's result comes home: on the GUI thread, to the widget that asked for it,
with one way of putting a failure into words.

A widget starts work in the core (a Future), then ``ops.run(future, owner=self,
on_success=..., on_failure=..., busy=self.set_busy)``. The result arrives through the bridge
on the GUI thread; it is dropped when its owner is gone (deleted, or retired by whoever
removed it: an instance page replaced by another one's), so no callback touches a page that
is no longer the one on screen. Failures reach ``on_failure`` as a :class:`Failure`: the
engine's own sentence, a refused configuration's errors (to show at their fields), or the
exception's text.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject
from shiboken6 import isValid

from app.errors import ConfigError, FieldError

if TYPE_CHECKING:
    from ui.bridge import CoreBridge

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Failure:
    """A failed operation, as the person is told: ``sentence`` always; ``errors`` when it was a
    refused configuration (each error belongs at its field)."""

    sentence: str
    errors: tuple[FieldError, ...] = ()


def failure_of(exc: BaseException) -> Failure:
    """The one error formatter: an EngineError's sentence, a ConfigError's errors (the
    sentence lists them), else the exception's text (its type's name if it has none)."""
    if isinstance(exc, ConfigError):
        errors = tuple(exc.errors)
        return Failure("; ".join(f"{e.field_name}: {e.message}" for e in errors)
                       or "the configuration was refused", errors)
    # Duck-typed, as app.engine.errors.EngineError (importing it would load the docker SDK).
    sentence = getattr(exc, "sentence", None)
    text = sentence if isinstance(sentence, str) and sentence else str(exc)
    return Failure(text or type(exc).__name__)


def error_sentence(exc: BaseException) -> str:
    """``failure_of(exc).sentence``."""
    return failure_of(exc).sentence


def alive(owner: QObject) -> bool:
    """Whether ``owner``'s C++ object still exists (a deleted widget's Python wrapper stays)."""
    return isValid(owner)


class Operations:
    """Brings results home for the widgets of one window; see the module's docstring."""

    def __init__(self, bridge: CoreBridge) -> None:
        self._bridge = bridge
        self._retired: weakref.WeakSet[QObject] = weakref.WeakSet()

    def retire(self, owner: QObject) -> None:
        """``owner`` is being removed: results still on their way to it are dropped (its
        deletion comes later, at the event loop's next turn)."""
        self._retired.add(owner)

    def wanted_by(self, owner: QObject) -> bool:
        return owner not in self._retired and alive(owner)

    def run(self, work: Future[T] | Callable[[], Future[T]], *, owner: QObject,
            on_success: Callable[[T], None] | None = None,
            on_failure: Callable[[Failure], None] | None = None,
            busy: Callable[[bool], None] | None = None) -> None:
        """Deliver ``work``'s result to ``owner`` on the GUI thread.

        ``work`` is a Future, or a call that returns one: a call that raises at once (a
        refusal up front) fails like the Future would. ``busy(True)`` is called now and
        ``busy(False)`` once it is settled (if the owner is still wanted).
        """
        if busy is not None:
            busy(True)
        if isinstance(work, Future):
            future: Future[T] = work
        else:
            try:
                future = work()
            except Exception as exc:  # noqa: BLE001 - reported to the person, like a failure
                future = Future()
                future.set_exception(exc)

        def home(settled: Future[Any]) -> None:
            if not self.wanted_by(owner):
                return  # its widget is gone: nothing left to show it in
            if busy is not None:
                busy(False)
            exc = settled.exception()
            if exc is None:
                if on_success is not None:
                    on_success(settled.result())
            elif on_failure is not None:
                on_failure(failure_of(exc))
            else:
                log.info("%s: %s", type(owner).__name__, failure_of(exc).sentence)
        self._bridge.when_done(future, home)

    def homeward(self, owner: QObject, fn: Callable[..., None]) -> Callable[..., None]:
        """A callable for another thread (a log stream's reader): each call runs ``fn`` with
        its arguments on the GUI thread, in order with the core's events, while ``owner`` is
        still wanted."""
        bridge = self._bridge

        def from_any_thread(*args: Any) -> None:
            def call() -> None:
                if self.wanted_by(owner):
                    fn(*args)
            # (The window itself gone, at exit: nowhere to go.)
            with contextlib.suppress(RuntimeError):
                bridge.post(call)
        return from_any_thread

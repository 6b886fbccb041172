"""How results and core events come home to the widgets (ui/operations.py, ui/bridge.py):
on the GUI thread, in order, to their owner while it is there, failures in one set of words.
Offscreen, no engine; the core's events are its own classes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.engine.errors import EngineError
from app.engine.progress import PullProgress
from app.errors import ConfigError, FieldError
from app.orchestrator.events import ContainerEvent, InstanceAdded, PullProgressed, StateChanged
from app.orchestrator.state import InstanceStatus, Phase
from ui.bridge import CoreBridge
from ui.operations import Failure, Operations, failure_of

pytestmark = pytest.mark.gui


@pytest.fixture
def bridge() -> Iterator[CoreBridge]:
    b = CoreBridge()
    yield b
    b.detach()


@pytest.fixture
def owner(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


def _settle_from_a_thread(future: Future[Any], *, result: Any = None,
                          error: BaseException | None = None) -> None:
    def settle() -> None:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    worker = threading.Thread(target=settle, name="test-core")
    worker.start()
    worker.join()


def _delete_now(widget: QWidget) -> None:
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_a_result_comes_home_on_the_gui_thread_and_the_owner_is_busy_meanwhile(
        qtbot: QtBot, bridge: CoreBridge, owner: QWidget) -> None:
    ops = Operations(bridge)
    seen: list[tuple[str, object, bool]] = []
    future: Future[int] = Future()
    ops.run(future, owner=owner,
            on_success=lambda r: seen.append(
                ("success", r, threading.current_thread() is threading.main_thread())),
            busy=lambda on: seen.append(("busy", on, True)))
    assert seen == [("busy", True, True)]
    _settle_from_a_thread(future, result=42)
    qtbot.waitUntil(lambda: len(seen) == 3)
    assert seen[1:] == [("busy", False, True), ("success", 42, True)]


@pytest.mark.parametrize(("exc", "sentence", "fields"), [
    (EngineError("registry 127.0.0.1:5000 refused the username or password; check them."),
     "registry 127.0.0.1:5000 refused the username or password; check them.", []),
    (ConfigError([FieldError("container.memory", "Memory", "lots is not a size", "lots", "web"),
                  FieldError("name", "Name", "web! is not a valid container name")]),
     "Memory: lots is not a size; Name: web! is not a valid container name",
     ["container.memory", "name"]),
    (RuntimeError("the disk is full"), "the disk is full", []),
    (TimeoutError(), "TimeoutError", []),
])
def test_one_formatter_for_every_failure(exc: BaseException, sentence: str,
                                         fields: list[str]) -> None:
    failure = failure_of(exc)
    assert failure.sentence == sentence
    assert [e.field_id for e in failure.errors] == fields


def test_a_failure_reaches_on_failure_in_those_words(
        qtbot: QtBot, bridge: CoreBridge, owner: QWidget) -> None:
    ops = Operations(bridge)
    failures: list[Failure] = []
    future: Future[None] = Future()
    ops.run(future, owner=owner, on_success=lambda _r: pytest.fail("it failed"),
            on_failure=failures.append)
    _settle_from_a_thread(future, error=EngineError("the engine refused to stop it."))
    qtbot.waitUntil(lambda: bool(failures))
    assert failures == [Failure("the engine refused to stop it.")]


def test_a_call_refused_at_once_fails_like_its_future_would(
        qtbot: QtBot, bridge: CoreBridge, owner: QWidget) -> None:
    ops = Operations(bridge)
    failures: list[Failure] = []
    busy: list[bool] = []

    def refuse() -> Future[None]:
        raise EngineError("not connected to the engine")
    ops.run(refuse, owner=owner, on_failure=failures.append, busy=busy.append)
    qtbot.waitUntil(lambda: bool(failures))
    assert failures[0].sentence == "not connected to the engine"
    assert busy == [True, False]


def test_a_result_for_a_deleted_owner_is_dropped(qtbot: QtBot, bridge: CoreBridge) -> None:
    ops = Operations(bridge)
    page = QWidget()
    calls: list[object] = []
    future: Future[int] = Future()
    ops.run(future, owner=page, on_success=calls.append, on_failure=calls.append,
            busy=calls.append)
    assert calls == [True]
    _delete_now(page)
    done: Future[None] = Future()
    ops.run(done, owner=bridge, on_success=calls.append)  # after it, in the same order
    _settle_from_a_thread(future, result=1)
    _settle_from_a_thread(done, result="later")
    qtbot.waitUntil(lambda: "later" in calls)
    assert calls == [True, "later"]


def test_a_retired_owner_gets_nothing_even_before_it_is_deleted(
        qtbot: QtBot, bridge: CoreBridge, owner: QWidget) -> None:
    ops = Operations(bridge)
    calls: list[object] = []
    future: Future[int] = Future()
    ops.run(future, owner=owner, on_success=calls.append, on_failure=calls.append)
    ops.retire(owner)  # the page was replaced; it is deleted at the loop's next turn
    marker: Future[None] = Future()
    ops.run(marker, owner=bridge, on_success=lambda _r: calls.append("marker"))
    _settle_from_a_thread(future, error=RuntimeError("too late"))
    _settle_from_a_thread(marker)
    qtbot.waitUntil(lambda: "marker" in calls)
    assert calls == ["marker"]
    assert not ops.wanted_by(owner)


def test_homeward_calls_come_home_in_order_with_the_core_s_events(
        qtbot: QtBot, bridge: CoreBridge) -> None:
    ops = Operations(bridge)
    owner = QWidget()  # a log dialog, say
    seen: list[tuple[str, bool]] = []
    line = ops.homeward(owner, lambda text: seen.append(
        (text, threading.current_thread() is threading.main_thread())))
    bridge.instance_added.connect(lambda name: seen.append((f"added {name}", True)))

    def reader() -> None:
        line("one")
        bridge._on_core_event(InstanceAdded("web"))  # as the orchestrator calls it
        line("two")
    worker = threading.Thread(target=reader)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(seen) == 3)
    assert seen == [("one", True), ("added web", True), ("two", True)]

    _delete_now(owner)
    line("after the dialog closed")
    bridge.instance_added.emit("marker")
    qtbot.wait(20)
    assert ("after the dialog closed", True) not in seen


def test_events_no_widget_shows_make_no_trip_to_the_gui_thread(
        qtbot: QtBot, bridge: CoreBridge) -> None:
    states: list[InstanceStatus] = []
    bridge.state_changed.connect(states.append)
    progress = PullProgress("nginx:1.25", (), 10, 100)
    status = InstanceStatus("web", Phase.PULLING, progress=progress)
    woken: list[int] = []
    bridge._incoming.connect(lambda: woken.append(1))

    def core() -> None:
        bridge._on_core_event(ContainerEvent("c" * 64, "start", "web", "web"))
        bridge._on_core_event(PullProgressed("web", progress))
    worker = threading.Thread(target=core)
    worker.start()
    worker.join()
    qtbot.wait(20)
    assert woken == []  # neither woke the GUI thread
    bridge._on_core_event(StateChanged(status))
    qtbot.waitUntil(lambda: bool(states))
    assert states == [status]  # the progress comes with the state
    assert not hasattr(bridge, "container_event")
    assert not hasattr(bridge, "pull_progressed")


def test_a_call_through_the_bridge_runs_off_the_gui_thread(
        qtbot: QtBot, bridge: CoreBridge, owner: QWidget) -> None:
    ops = Operations(bridge)
    threads: list[str] = []
    results: list[str] = []
    ops.run(bridge.call(lambda x: threads.append(threading.current_thread().name) or x, "ok"),
            owner=owner, on_success=results.append)
    qtbot.waitUntil(lambda: results == ["ok"])
    assert threads
    assert threads[0] != threading.main_thread().name
    assert threads[0].startswith("moorings-gui-call")

"""The inventory pages, models and pieces (ui/inventory), over a fake Inventory, offscreen.

The fake implements the core's contract (listeners called from a worker thread, Futures for
actions); the rows and events are the core's own classes. Tests over the real engine live
elsewhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractSlider,
    QApplication,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app import threadguard
from app.engine.errors import EngineError
from app.engine.pull import LayerProgress, PullProgress
from app.inventory.feed import FeedState, ImagesChanged, RowAdded, RowChanged, RowRemoved
from app.inventory.rows import ContainerRow, ImageRow, PortInfo
from app.orchestrator.history import HistoryEntry
from ui.application import load_style
from ui.bridge import CoreBridge
from ui.inventory.containers_model import (
    COLUMNS,
    CREATED,
    ID_ROLE,
    IMAGE,
    MANAGED,
    NAME,
    PORTS,
    SORT_ROLE,
    STARTED,
    STATE,
    ContainersModel,
)
from ui.inventory.containers_page import ContainersPage
from ui.inventory.images_model import ImagesModel
from ui.inventory.images_page import ImagesPage
from ui.inventory.logs_dialog import MAX_LINES, LogsDialog
from ui.services.pull_progress import PullProgressView
from ui.services.timeline import TimelineView

pytestmark = pytest.mark.gui

NOW = time.time()
LIVE = FeedState("live", None, "")


def crow(cid: str, name: str, *, state: str = "running", image: str = "nginx",
         tag: str = "1.25", instance: str | None = None, exit_code: int | None = None,
         ports: tuple[PortInfo, ...] = (), created: float = NOW - 3600,
         started: float | None = NOW - 60, status_text: str = "Up 1 minute") -> ContainerRow:
    return ContainerRow(id=cid * 8, name=name, image=image, tag=tag, state=state,
                        exit_code=exit_code, health=None, ports=ports, created=created,
                        started=started, instance=instance, managed=instance is not None,
                        status_text=status_text)


def irow(iid: str, repo: str, tag: str, *, size: int = 12_300_000,
         used_by: tuple[str, ...] = ()) -> ImageRow:
    return ImageRow(id=f"sha256:{iid * 16}", repository=repo, tag=tag, size=size,
                    created=NOW - 86400 * 3, used_by=used_by)


WEB = crow("a1b2", "web", instance="web", ports=(PortInfo(80, "tcp", "0.0.0.0", 8080),
                                                 PortInfo(80, "tcp", "::", 8080)))
SENSOR = crow("c3d4", "sensor-reader", image="registry.local:5000/acme/sensor", tag="2.0")
OLD = crow("e5f6", "old-job", state="exited", exit_code=137, started=None,
           status_text="Exited (137) 2 hours ago")


class FakeInventory:
    """The ``app.inventory.feed.Inventory`` contract, in memory. Events are delivered from a
    worker thread, as the real one does."""

    def __init__(self, rows: Iterable[ContainerRow] = (), images: Iterable[ImageRow] = (),
                 state: FeedState = LIVE) -> None:
        self._listeners: list[Callable[[Any], None]] = []
        self._rows = {r.id: r for r in rows}
        self._images = tuple(images)
        self._state = state
        self.calls: list[tuple[str, str]] = []
        self.failures: dict[str, BaseException] = {}
        # Verbs whose Futures the test settles itself (an action that takes its time).
        self.held: set[str] = set()
        self.pending: list[Future[None]] = []

    # -- contract --------------------------------------------------------------------------
    def add_listener(self, fn: Callable[[Any], None]) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[Any], None]) -> None:
        self._listeners.remove(fn)

    def rows(self) -> list[ContainerRow]:
        return sorted(self._rows.values(), key=lambda r: r.name)

    def row(self, id: str) -> ContainerRow | None:
        return self._rows.get(id)

    def images(self) -> list[ImageRow]:
        return list(self._images)

    def state(self) -> FeedState:
        return self._state

    def refresh(self) -> Future[None]:
        return self._answer("refresh", "")

    def start_container(self, id: str) -> Future[None]:
        return self._answer("start", id)

    def stop_container(self, id: str) -> Future[None]:
        return self._answer("stop", id)

    def restart_container(self, id: str) -> Future[None]:
        return self._answer("restart", id)

    def remove_container(self, id: str) -> Future[None]:
        return self._answer("remove", id)

    def remove_image(self, id_or_ref: str) -> Future[None]:
        return self._answer("remove_image", id_or_ref)

    # -- driving it ------------------------------------------------------------------------
    def _answer(self, verb: str, target: str) -> Future[None]:
        self.calls.append((verb, target))
        future: Future[None] = Future()
        if verb in self.held:
            self.pending.append(future)
            return future
        exc = self.failures.get(verb)

        def settle() -> None:
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(None)
        threading.Thread(target=settle).start()
        return future

    def emit(self, event: object) -> None:
        def deliver() -> None:
            for fn in list(self._listeners):
                fn(event)
        worker = threading.Thread(target=deliver, name="fake-inventory")
        worker.start()
        worker.join()

    def add(self, row: ContainerRow) -> None:
        self._rows[row.id] = row
        self.emit(RowAdded(row))

    def change(self, row: ContainerRow, *fields: str) -> None:
        self._rows[row.id] = row
        self.emit(RowChanged(row, frozenset(fields)))

    def remove(self, cid: str) -> None:
        self._rows.pop(cid, None)
        self.emit(RowRemoved(cid))

    def set_images(self, rows: Iterable[ImageRow]) -> None:
        self._images = tuple(rows)
        self.emit(ImagesChanged(self._images))

    def set_state(self, state: FeedState) -> None:
        self._state = state
        self.emit(state)


@pytest.fixture
def styled() -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyleSheet(load_style())


@pytest.fixture
def inventory() -> FakeInventory:
    return FakeInventory([WEB, SENSOR, OLD], [
        irow("1", "nginx", "1.25", used_by=("web",)),
        irow("2", "registry.local:5000/acme/sensor", "2.0", size=40_000_000,
             used_by=("sensor-reader",)),
        irow("3", "<none>", "", size=5_000_000)])


@pytest.fixture
def bridge(qtbot: QtBot, inventory: FakeInventory) -> Iterator[CoreBridge]:
    b = CoreBridge(inventory=inventory)
    yield b
    b.detach()


@pytest.fixture
def page(qtbot: QtBot, bridge: CoreBridge, inventory: FakeInventory,
         styled: None) -> ContainersPage:
    p = ContainersPage(bridge, inventory)
    p.confirm = lambda title, text, yes: True  # type: ignore[method-assign]
    qtbot.addWidget(p)
    p.resize(1280, 800)
    p.show()
    qtbot.waitExposed(p)
    return p


def _record_changes(model: Any) -> list[tuple[int, int, int, int]]:
    seen: list[tuple[int, int, int, int]] = []

    def on_changed(top: QModelIndex, bottom: QModelIndex, _roles: Any = None) -> None:
        seen.append((top.row(), top.column(), bottom.row(), bottom.column()))
    model.dataChanged.connect(on_changed)
    return seen


def _names(view: QTableView) -> list[str]:
    model = view.model()
    return [str(model.index(r, NAME).data()) for r in range(model.rowCount())]


# ---------------------------------------------------------------- the containers model

def test_containers_model_passes_the_model_tester(qtmodeltester: Any) -> None:
    model = ContainersModel()
    model.load([WEB, SENSOR])
    qtmodeltester.check(model)
    model.add_row(OLD)
    model.change_row(crow("a1b2", "web", state="exited", exit_code=1, instance="web",
                          started=None), {"state", "exit_code", "started"})
    model.remove_row(SENSOR.id)
    model.add_row(SENSOR)
    model.remove_row(WEB.id)
    model.remove_row("not-there")
    model.load([OLD])  # a second load is a diff, not a reset
    assert model.ids() == [OLD.id]
    for r in range(model.rowCount()):
        for c in range(model.columnCount()):
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                         Qt.ItemDataRole.ForegroundRole, ID_ROLE, SORT_ROLE):
                model.index(r, c).data(role)


def test_one_field_changed_repaints_only_its_column(qtbot: QtBot) -> None:
    model = ContainersModel()
    model.load([WEB, SENSOR, OLD])
    seen = _record_changes(model)
    row = model.row_of(SENSOR.id)

    model.change_row(crow("c3d4", "sensor-reader", image="registry.local:5000/acme/sensor",
                          tag="2.0", state="exited", exit_code=2), {"state", "exit_code"})
    assert seen == [(row, STATE, row, STATE)]

    seen.clear()
    moved = crow("c3d4", "sensor-reader", image="registry.local:5000/acme/sensor", tag="2.0",
                 state="exited", exit_code=2, ports=(PortInfo(9000, "udp", None, 9000),))
    model.change_row(moved, {"ports"})
    assert seen == [(row, PORTS, row, PORTS)]
    assert model.index(row, PORTS).data() == "9000→9000/udp"

    seen.clear()
    model.change_row(moved, {"id"})  # a field no cell shows: nothing to repaint
    assert seen == []

    seen.clear()  # fields not given: the ones that differ
    model.change_row(crow("c3d4", "sensor-reader", image="registry.local:5000/acme/sensor",
                          tag="2.1", state="exited", exit_code=2,
                          ports=(PortInfo(9000, "udp", None, 9000),)))
    assert seen == [(row, IMAGE, row, IMAGE)]


def test_no_reset_after_the_first_load(qtbot: QtBot) -> None:
    model = ContainersModel()
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.load([WEB])
    assert resets == [1]
    model.add_row(SENSOR)
    model.change_row(crow("a1b2", "web", state="restarting", instance="web"), {"state"})
    model.remove_row(SENSOR.id)
    model.load([WEB, OLD])
    assert resets == [1]
    assert sorted(model.ids()) == sorted([WEB.id, OLD.id])


def test_display_sort_and_roles() -> None:
    model = ContainersModel()
    model.load([WEB, OLD])
    web, old = model.row_of(WEB.id), model.row_of(OLD.id)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(7)] == list(COLUMNS)
    assert model.index(web, PORTS).data() == "8080→80/tcp"  # the IPv4/IPv6 twins once
    assert model.index(web, MANAGED).data() == "web"
    assert model.index(old, MANAGED).data() == "—"
    assert model.index(old, STATE).data() == OLD.state_label()
    assert model.index(old, STATE).data(Qt.ItemDataRole.ToolTipRole) == OLD.status_text
    assert model.index(web, IMAGE).data() == "nginx:1.25"
    assert model.index(old, STARTED).data() == "—"
    assert isinstance(model.index(web, CREATED).data(SORT_ROLE), float)
    assert model.index(web, NAME).data(ID_ROLE) == WEB.id
    assert model.row_at(web) == WEB
    red = model.index(old, STATE).data(Qt.ItemDataRole.ForegroundRole).color().name()
    green = model.index(web, STATE).data(Qt.ItemDataRole.ForegroundRole).color().name()
    assert (red, green) == ("#b00020", "#1b7f3b")


# ---------------------------------------------------------------- the containers page

def test_bridge_delivers_worker_thread_events_on_the_gui_thread(
        qtbot: QtBot, inventory: FakeInventory, page: ContainersPage) -> None:
    threads: list[bool] = []
    page.bridge.row_added.connect(
        lambda _r: threads.append(threading.current_thread() is threading.main_thread()))
    new = crow("0f0f", "extra", image="busybox", tag="1.36")
    with qtbot.waitSignal(page.bridge.row_added):
        inventory.add(new)
    assert threads == [True]
    assert page.model.row_of(new.id) >= 0


def test_events_update_the_page_without_a_reset(
        qtbot: QtBot, inventory: FakeInventory, page: ContainersPage) -> None:
    resets: list[int] = []
    page.model.modelReset.connect(lambda: resets.append(1))
    seen = _record_changes(page.model)
    table = page.findChild(QTableView, "containers-table")
    assert sorted(_names(table)) == ["old-job", "sensor-reader", "web"]

    changed = crow("c3d4", "sensor-reader", image="registry.local:5000/acme/sensor",
                   tag="2.0", state="exited", exit_code=3)
    with qtbot.waitSignal(page.bridge.row_changed):
        inventory.change(changed, "state", "exit_code", "status_text")
    row = page.model.row_of(SENSOR.id)
    assert seen == [(row, STATE, row, STATE)]
    with qtbot.waitSignal(page.bridge.row_removed):
        inventory.remove(OLD.id)
    # Within a burst, a change waits for the next apply (at most APPLY_INTERVAL_S).
    qtbot.waitUntil(lambda: sorted(_names(table)) == ["sensor-reader", "web"], timeout=2000)
    assert resets == []


def test_a_burst_reaches_the_table_each_row_once(
        qtbot: QtBot, inventory: FakeInventory, page: ContainersPage) -> None:
    seen = _record_changes(page.model)
    inserted: list[int] = []
    page.model.rowsInserted.connect(lambda _p, first, last: inserted.append(last - first + 1))
    page.flush()
    row = page.model.row_of(SENSOR.id)
    # Twenty changes of one row and a container that comes and goes, in one burst.
    for code in range(20):
        inventory.change(crow("c3d4", "sensor-reader", image="registry.local:5000/acme/sensor",
                              tag="2.0", state="exited", exit_code=code), "state", "exit_code")
    fleeting = crow("0f0f", "fleeting", image="busybox", tag="1.36")
    inventory.add(fleeting)
    inventory.remove(fleeting.id)
    qtbot.waitUntil(lambda: page.model.index(row, STATE).data() == "exited (code 19)",
                    timeout=2000)
    page.flush()
    # The first change at once, the other nineteen as one; the fleeting container never
    # reached the table, and nothing was lost on the way.
    assert seen == [(row, STATE, row, STATE)] * 2
    assert page.model.row_of(fleeting.id) < 0
    assert inserted == []


def test_filter_hides_rows(qtbot: QtBot, page: ContainersPage) -> None:
    table = page.findChild(QTableView, "containers-table")
    box = page.findChild(QLineEdit, "inventory-filter")
    qtbot.keyClicks(box, "ACME")  # the image, any case
    assert _names(table) == ["sensor-reader"]
    box.setText("web")  # name or instance
    assert _names(table) == ["web"]
    box.setText("nothing-like-this")
    assert _names(table) == []
    assert page.findChild(QLabel, "inventory-count").text() == "0 of 3"
    box.clear()
    assert len(_names(table)) == 3


def test_filtering_out_the_selected_row_clears_the_details(
        qtbot: QtBot, page: ContainersPage) -> None:
    _tap_row(qtbot, page, "old-job")
    page.findChild(QLineEdit, "inventory-filter").setText("web")
    # Never a neighbour's details in its place: the panel waits for a new tap.
    assert page.selected_row() is None
    assert page.findChild(QLabel, "inv-details-placeholder").isVisible()
    page.findChild(QLineEdit, "inventory-filter").setText("")
    _tap_row(qtbot, page, "sensor-reader")
    page.findChild(QLineEdit, "inventory-filter").setText("sensor")
    assert page.selected_row() is not None
    assert page.selected_row().name == "sensor-reader"  # type: ignore[union-attr]


def test_clicking_a_header_sorts(qtbot: QtBot, page: ContainersPage) -> None:
    table = page.findChild(QTableView, "containers-table")
    assert _names(table) == ["old-job", "sensor-reader", "web"]
    table.sortByColumn(NAME, Qt.SortOrder.DescendingOrder)
    assert _names(table) == ["web", "sensor-reader", "old-job"]
    table.sortByColumn(CREATED, Qt.SortOrder.AscendingOrder)  # numbers, not text
    assert len(_names(table)) == 3


def test_feed_states_in_the_status_line(
        qtbot: QtBot, inventory: FakeInventory, page: ContainersPage) -> None:
    status = page.findChild(QLabel, "inventory-status")
    table = page.findChild(QTableView, "containers-table")
    assert "Live" in status.text()
    with qtbot.waitSignal(page.bridge.feed_state):
        inventory.set_state(FeedState("reconnecting", None, "listing"))
    assert "Reconnecting…" in status.text()
    since = time.mktime((2024, 5, 1, 10, 22, 5, 0, 0, -1))
    with qtbot.waitSignal(page.bridge.feed_state):
        inventory.set_state(FeedState("stale", since, "the engine does not answer"))
    assert "Stale since 10:22:05 — the engine does not answer" in status.text()
    assert table.property("stale") == "true"
    web_state = page.model.index(page.model.row_of(WEB.id), STATE)

    def state_colour_of_web() -> str:
        return str(web_state.data(Qt.ItemDataRole.ForegroundRole).color().name())
    assert state_colour_of_web() == "#5f6368"  # running, but greyed: what it last was
    assert table.isVisible()  # the last known rows stay, greyed
    with qtbot.waitSignal(page.bridge.feed_state):
        inventory.set_state(LIVE)
    assert table.property("stale") == "false"
    assert state_colour_of_web() == "#1b7f3b"


def test_engine_error_replaces_the_table(
        qtbot: QtBot, inventory: FakeInventory, page: ContainersPage) -> None:
    sentence = "The Docker engine at unix:///var/run/docker.sock refused the connection."
    with qtbot.waitSignal(page.bridge.feed_state):
        inventory.set_state(FeedState("error", NOW, sentence))
    error = page.findChild(QLabel, "inventory-error")
    assert error.isVisible()
    assert error.text() == sentence
    assert not page.findChild(QTableView, "containers-table").isVisible()
    assert "Engine error" in page.findChild(QLabel, "inventory-status").text()
    with qtbot.waitSignal(page.bridge.feed_state):
        inventory.set_state(LIVE)
    assert page.findChild(QTableView, "containers-table").isVisible()


def test_a_page_created_in_error_shows_the_error(qtbot: QtBot, styled: None) -> None:
    inv = FakeInventory([], state=FeedState("error", NOW, "No engine at tcp://10.0.0.9:2375."))
    bridge = CoreBridge(inventory=inv)
    p = ContainersPage(bridge, inv)
    qtbot.addWidget(p)
    p.show()
    assert p.findChild(QLabel, "inventory-error").isVisible()
    assert "No engine at" in p.findChild(QLabel, "inventory-error").text()
    assert not p.findChild(QTableView, "containers-table").isVisible()


def test_narrow_width_keeps_name_and_state(qtbot: QtBot, page: ContainersPage) -> None:
    table = page.findChild(QTableView, "containers-table")

    def shown() -> list[int]:
        return [c for c in range(len(COLUMNS)) if not table.isColumnHidden(c)]
    page.resize(1500, 800)
    qtbot.waitUntil(lambda: page.tier == "wide")
    assert shown() == list(range(len(COLUMNS)))
    page.resize(1280, 800)  # a laptop: the times move to the details panel
    qtbot.waitUntil(lambda: page.tier == "medium")
    assert shown() == [NAME, STATE, IMAGE, PORTS, MANAGED]
    page.resize(800, 430)  # the 7-inch panel under the window's header
    qtbot.waitUntil(lambda: page.narrow)
    assert shown() == [NAME, STATE]
    assert table.rowHeight(0) >= 48
    assert table.columnWidth(NAME) >= 120
    details = page.findChild(QWidget, "container-details")
    assert details.width() >= 300


def _tap_row(qtbot: QtBot, page: ContainersPage, name: str) -> None:
    table = page.findChild(QTableView, "containers-table")
    row = _names(table).index(name)
    rect = table.visualRect(table.model().index(row, NAME))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: page.selected_row() is not None
                    and page.selected_row().name == name)  # type: ignore[union-attr]


def test_tapping_a_row_shows_details_and_actions(
        qtbot: QtBot, inventory: FakeInventory, page: ContainersPage) -> None:
    _tap_row(qtbot, page, "sensor-reader")
    details = page.findChild(QWidget, "container-details")
    assert details.isVisible()
    assert page.findChild(QLabel, "inv-details-name").text() == "sensor-reader"
    assert page.findChild(QLabel, "inv-details-image").text() == \
        "registry.local:5000/acme/sensor:2.0"
    for name in ("inv-start", "inv-stop", "inv-restart", "inv-remove", "inv-logs"):
        button = page.findChild(QPushButton, name)
        assert button.isVisible(), name
        assert button.height() >= 44, name
    assert not page.findChild(QPushButton, "inv-start").isEnabled()  # it runs
    qtbot.mouseClick(page.findChild(QPushButton, "inv-stop"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "sensor-reader stopped." in page.status.plain_text())
    assert inventory.calls == [("stop", SENSOR.id)]

    # A change of the shown row updates the panel.
    with qtbot.waitSignal(page.bridge.row_changed):
        inventory.change(crow("c3d4", "sensor-reader", image="registry.local:5000/acme/sensor",
                              tag="2.0", state="exited", exit_code=0), "state", "exit_code")
    assert page.findChild(QPushButton, "inv-start").isEnabled()


def test_while_a_container_stops_its_badge_says_stopping_and_nothing_is_pressable(
        qtbot: QtBot, inventory: FakeInventory, page: ContainersPage) -> None:
    inventory.held.add("stop")
    _tap_row(qtbot, page, "sensor-reader")
    state = page.findChild(QLabel, "inv-details-state")
    assert state.text() == "running"
    qtbot.mouseClick(page.findChild(QPushButton, "inv-stop"), Qt.MouseButton.LeftButton)
    assert inventory.calls == [("stop", SENSOR.id)]
    # The engine takes its time (10 s for a process that ignores SIGTERM).
    assert state.text() == "stopping"
    for name in ("inv-start", "inv-stop", "inv-restart", "inv-remove"):
        assert not page.findChild(QPushButton, name).isEnabled(), name
    assert page.findChild(QPushButton, "inv-logs").isEnabled()
    # An event for the row while it stops (still running) keeps it so.
    with qtbot.waitSignal(page.bridge.row_changed):
        inventory.change(crow("c3d4", "sensor-reader", image="registry.local:5000/acme/sensor",
                              tag="2.0", status_text="Up 2 minutes"), "status_text")
    page.flush()
    assert state.text() == "stopping"
    with qtbot.waitSignal(page.bridge.row_changed):
        inventory.change(crow("c3d4", "sensor-reader", image="registry.local:5000/acme/sensor",
                              tag="2.0", state="exited", exit_code=0), "state", "exit_code")
    inventory.pending[0].set_result(None)
    qtbot.waitUntil(lambda: state.text() != "stopping")
    page.flush()
    assert state.text().startswith("exited")
    assert page.findChild(QPushButton, "inv-start").isEnabled()


def test_the_images_count_counts_what_the_table_shows(
        qtbot: QtBot, bridge: CoreBridge, inventory: FakeInventory, styled: None) -> None:
    # Two images under five names: the count must not say "2 images" above five rows.
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    rows = [ImageRow(id=a, repository=repo, tag=tag, size=3_000_000, created=NOW,
                     used_by=()) for repo, tag in (("nginx", "1.25"), ("nginx", "latest"),
                                                    ("web", "1"))]
    rows += [ImageRow(id=b, repository="busybox", tag=tag, size=1_000_000, created=NOW,
                      used_by=()) for tag in ("1", "stable")]
    inventory._images = tuple(rows)
    page = ImagesPage(bridge, inventory)
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    table = page.findChild(QTableView, "images-table")
    assert table.model().rowCount() == 5
    assert page.total_label.text() == "5 rows, 2 images, 4.0 MB"
    page.filter.setText("nginx")
    assert table.model().rowCount() == 2
    assert page.total_label.text() == "2 of 5 rows"
    page.filter.setText("")
    with qtbot.waitSignal(bridge.images_changed):
        inventory.set_images(rows[:1] + rows[3:4])
    assert page.total_label.text() == "2 images, 4.0 MB"


def test_action_error_shown_as_a_sentence(
        qtbot: QtBot, inventory: FakeInventory, page: ContainersPage) -> None:
    sentence = "The port 8080 on 0.0.0.0 is already taken by another container."
    inventory.failures["restart"] = EngineError(sentence, "conflict")
    _tap_row(qtbot, page, "sensor-reader")
    qtbot.mouseClick(page.findChild(QPushButton, "inv-restart"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sentence in page.status.plain_text())
    assert page.status.message_is_error


def test_remove_of_a_managed_container_points_to_its_instance(
        qtbot: QtBot, inventory: FakeInventory, page: ContainersPage) -> None:
    asked: list[str] = []
    page.confirm = lambda title, text, yes: asked.append(title) or True  # type: ignore
    _tap_row(qtbot, page, "web")
    qtbot.mouseClick(page.findChild(QPushButton, "inv-remove"), Qt.MouseButton.LeftButton)
    assert ("This container belongs to the instance web: disable or delete web in Services "
            "to remove it.") in page.status.plain_text()
    assert asked == []
    assert inventory.calls == []
    # The way there is one tap away.
    jump = page.findChild(QPushButton, "inv-open-instance")
    assert jump.isVisible()
    with qtbot.waitSignal(page.open_instance) as blocker:
        qtbot.mouseClick(jump, Qt.MouseButton.LeftButton)
    assert blocker.args == ["web"]


def test_remove_of_an_unmanaged_container_asks_first(
        qtbot: QtBot, inventory: FakeInventory, page: ContainersPage) -> None:
    answers = [False, True]
    asked: list[str] = []

    def confirm(title: str, text: str, yes: str) -> bool:
        asked.append(title)
        return answers.pop(0)
    page.confirm = confirm  # type: ignore[method-assign]
    _tap_row(qtbot, page, "old-job")
    remove = page.findChild(QPushButton, "inv-remove")
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    assert inventory.calls == []  # "Cancel"
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    assert inventory.calls == [("remove", OLD.id)]
    assert asked == ["Remove old-job?", "Remove old-job?"]
    with qtbot.waitSignal(page.bridge.row_removed):
        inventory.remove(OLD.id)
    assert page.findChild(QLabel, "inv-details-state").text() == "removed"
    assert not page.findChild(QPushButton, "inv-remove").isEnabled()


# ---------------------------------------------------------------- images

def test_images_model_passes_the_model_tester(qtmodeltester: Any) -> None:
    model = ImagesModel()
    a, b, c = irow("1", "nginx", "1.25"), irow("2", "busybox", "1.36"), irow("3", "<none>", "")
    model.set_images([a, b])
    qtmodeltester.check(model)
    model.set_images([a, b, c])
    model.set_images([c, ImageRow(b.id, b.repository, b.tag, b.size, b.created, ("x",))])
    model.set_images([])
    model.set_images([b])
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == ["busybox"]


def test_images_model_changes_only_changed_cells() -> None:
    model = ImagesModel()
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    a, b = irow("1", "nginx", "1.25"), irow("2", "busybox", "1.36")
    model.set_images([a, b])
    seen = _record_changes(model)
    model.set_images([a, ImageRow(b.id, b.repository, b.tag, b.size, b.created, ("web",))])
    assert seen == [(1, 5, 1, 5)]
    assert resets == [1]
    assert model.index(1, 5).data() == "web"
    assert model.index(0, 3).data() == "12.3 MB"
    assert model.index(0, 2).data() == "111111111111"


def test_images_page_remove_shows_the_core_refusal(
        qtbot: QtBot, inventory: FakeInventory, bridge: CoreBridge, styled: None) -> None:
    page = ImagesPage(bridge, inventory)
    asked: list[str] = []
    page.confirm = lambda title, text, yes: asked.append(text) or True  # type: ignore
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    table = page.findChild(QTableView, "images-table")
    assert table.model().rowCount() == 3
    remove = page.findChild(QPushButton, "img-remove")
    assert not remove.isEnabled()
    assert page.select_reference("nginx:1.25")
    assert remove.isEnabled()
    sentence = "The image nginx:1.25 is used by the container web: remove web first."
    inventory.failures["remove_image"] = EngineError(sentence, "conflict")
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    assert inventory.calls == [("remove_image", "nginx:1.25")]
    assert "used by web" in asked[0]
    qtbot.waitUntil(lambda: sentence in page.status.plain_text())
    assert page.status.message_is_error

    # The list follows ImagesChanged without a reset.
    resets: list[int] = []
    page.model.modelReset.connect(lambda: resets.append(1))
    with qtbot.waitSignal(bridge.images_changed):
        inventory.set_images(inventory.images()[1:])
    assert table.model().rowCount() == 2
    assert resets == []
    assert page.selected is None


def test_untagged_image_is_removed_by_id(
        qtbot: QtBot, inventory: FakeInventory, bridge: CoreBridge) -> None:
    page = ImagesPage(bridge, inventory)
    page.confirm = lambda title, text, yes: True  # type: ignore[method-assign]
    qtbot.addWidget(page)
    untagged = inventory.images()[2]
    assert page.select_reference(untagged.id)
    qtbot.mouseClick(page.findChild(QPushButton, "img-remove"), Qt.MouseButton.LeftButton)
    assert inventory.calls == [("remove_image", untagged.id)]
    qtbot.waitUntil(lambda: "removed." in page.status.plain_text())


# ---------------------------------------------------------------- logs

class FakeStream:
    def __init__(self, on_line: Callable[[str, str, str], None],
                 on_end: Callable[[str], None]) -> None:
        self.on_line, self.on_end = on_line, on_end
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def from_thread(self, fn: Callable[[], None]) -> None:
        worker = threading.Thread(target=fn)
        worker.start()
        worker.join()


@pytest.fixture
def logs(qtbot: QtBot, bridge: CoreBridge, styled: None) -> tuple[LogsDialog, list[FakeStream]]:
    streams: list[FakeStream] = []

    def opener(orchestrator: Any, cid: str, *, follow: bool, tail: int,
               on_line: Callable[[str, str, str], None],
               on_end: Callable[[str], None]) -> FakeStream:
        assert follow
        streams.append(FakeStream(on_line, on_end))
        return streams[-1]
    dialog = LogsDialog(bridge, object(), WEB.id, "web", opener=opener)
    qtbot.addWidget(dialog)
    dialog.resize(800, 480)
    dialog.show()
    return dialog, streams


def test_log_lines_arrive_through_the_signal_and_are_batched(
        qtbot: QtBot, logs: tuple[LogsDialog, list[FakeStream]]) -> None:
    dialog, [stream] = logs
    received: list[str] = []
    posted = dialog.bridge.post  # each line comes home through the bridge

    def count(fn: Callable[[], None]) -> None:
        received.append("line")
        posted(fn)
    dialog.bridge.post = count  # type: ignore[method-assign]

    def produce() -> None:
        for i in range(50):
            stream.on_line(f"2024-05-01T10:22:{i % 60:02d}.123456789Z", f"line {i}",
                           "stderr" if i % 10 == 0 else "stdout")
    stream.from_thread(produce)
    qtbot.waitUntil(lambda: len(dialog.shown_lines()) == 50)
    assert len(received) == 50
    assert dialog.shown_lines()[0].endswith("line 0")
    assert ":22:00.123" in dialog.shown_lines()[0]  # the time, shown
    assert dialog.findChild(QLabel, "logs-count").text() == "50 lines"
    timestamps = dialog.findChild(QPushButton, "logs-timestamps")
    timestamps.click()
    assert dialog.shown_lines()[0] == "line 0"
    follow = dialog.findChild(QPushButton, "logs-follow")
    assert follow.isChecked()
    bar = dialog.view.verticalScrollBar()
    assert bar.maximum() > 0
    assert bar.value() == bar.maximum()
    # Scrolling back to read stops following; new lines then leave the view where it is.
    bar.triggerAction(QAbstractSlider.SliderAction.SliderPageStepSub)
    assert not follow.isChecked()
    kept = bar.value()
    stream.from_thread(lambda: stream.on_line("", "one more", "stdout"))
    qtbot.waitUntil(lambda: dialog.shown_lines()[-1] == "one more")
    assert bar.value() == kept
    follow.click()
    assert bar.value() == bar.maximum()


def test_log_filter_hides_lines(qtbot: QtBot,
                                logs: tuple[LogsDialog, list[FakeStream]]) -> None:
    dialog, [stream] = logs
    stream.from_thread(lambda: [stream.on_line("", text, "stdout") for text in
                                ("GET /health 200", "ERROR disk full", "GET / 200",
                                 "error: retrying")])
    qtbot.waitUntil(lambda: len(dialog.shown_lines()) == 4)
    dialog.findChild(QLineEdit, "logs-filter").setText("error")
    assert dialog.shown_lines() == ["ERROR disk full", "error: retrying"]
    assert dialog.findChild(QLabel, "logs-count").text() == "2 of 4 lines"
    # New lines obey the filter too.
    stream.from_thread(lambda: [stream.on_line("", t, "stdout") for t in ("GET /x", "error 3")])
    qtbot.waitUntil(lambda: dialog.shown_lines()[-1] == "error 3")
    assert "GET /x" not in dialog.shown_lines()
    dialog.findChild(QLineEdit, "logs-filter").clear()
    assert len(dialog.shown_lines()) == 6


def test_log_save_to_writes_the_file(qtbot: QtBot, tmp_path: Path,
                                     logs: tuple[LogsDialog, list[FakeStream]]) -> None:
    dialog, [stream] = logs
    stream.from_thread(lambda: [stream.on_line(f"2024-05-01T10:00:0{i}Z", f"hello {i}",
                                               "stdout") for i in range(3)])
    qtbot.waitUntil(lambda: len(dialog.shown_lines()) == 3)
    target = tmp_path / "web.log"
    threadguard.forbid_current_thread()  # a file write on the GUI thread would raise
    try:
        with qtbot.waitSignal(dialog.saved) as blocker:
            dialog.save_to(target).result(timeout=10)
    finally:
        threadguard.allow_current_thread()
    assert target.read_text(encoding="utf-8") == (
        "2024-05-01T10:00:00Z hello 0\n2024-05-01T10:00:01Z hello 1\n"
        "2024-05-01T10:00:02Z hello 2\n")
    assert blocker.args == [f"Saved 3 lines to {target}."]


def test_log_end_sentence_is_shown_and_close_stops_the_stream(
        qtbot: QtBot, logs: tuple[LogsDialog, list[FakeStream]]) -> None:
    dialog, [stream] = logs
    sentence = ("The log driver syslog does not keep the logs on the engine: "
                "Moorings cannot read them back.")
    stream.from_thread(lambda: stream.on_end(sentence))
    end = dialog.findChild(QLabel, "logs-end")
    qtbot.waitUntil(end.isVisible)
    assert end.text() == sentence
    qtbot.mouseClick(dialog.findChild(QPushButton, "logs-close"), Qt.MouseButton.LeftButton)
    assert stream.closed
    assert not dialog.isVisible()
    stream.on_line("", "late", "stdout")  # after close: dropped quietly


def test_logs_keep_at_most_the_newest_lines(
        qtbot: QtBot, logs: tuple[LogsDialog, list[FakeStream]]) -> None:
    dialog, [stream] = logs
    stream.from_thread(lambda: [stream.on_line("", f"n{i}", "stdout")
                                for i in range(MAX_LINES + 20)])
    qtbot.waitUntil(lambda: dialog.shown_lines()[-1:] == [f"n{MAX_LINES + 19}"], timeout=10_000)
    assert len(dialog.kept_lines()) == MAX_LINES
    assert dialog.shown_count() == MAX_LINES
    assert dialog.shown_lines()[0] == "n20"


def test_open_logs_from_the_page(qtbot: QtBot, inventory: FakeInventory,
                                 bridge: CoreBridge) -> None:
    streams: list[FakeStream] = []

    def opener(_orch: Any, cid: str, **kw: Any) -> FakeStream:
        streams.append(FakeStream(kw["on_line"], kw["on_end"]))
        return streams[-1]
    page = ContainersPage(bridge, inventory, object(), logs_opener=opener)
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    assert page.select(SENSOR.id)
    qtbot.mouseClick(page.findChild(QPushButton, "inv-logs"), Qt.MouseButton.LeftButton)
    dialog = page.logs_dialog
    assert isinstance(dialog, LogsDialog)
    assert dialog.objectName() == "logs-dialog"
    assert dialog.container_id == SENSOR.id
    dialog.close()
    assert streams[0].closed


# ---------------------------------------------------------------- timeline and pull

def test_timeline_newest_first_with_times(qtbot: QtBot) -> None:
    view = TimelineView()
    qtbot.addWidget(view)
    base = time.mktime((*time.localtime(NOW)[:3], 9, 0, 0, 0, 0, -1))
    view.set_entries([
        HistoryEntry("created", "created from nginx:1.25", base),
        HistoryEntry("started", "started", base + 5),
        HistoryEntry("exited", "exited with code 137 (killed: out of memory)", base + 65),
        HistoryEntry("restarted", "restarted after exit code 137 (1 of 5)", base + 67),
    ])
    texts = view.row_texts()
    assert texts[0] == "09:01:07 restarted: restarted after exit code 137 (1 of 5)"
    assert texts[-1] == "09:00:00 created: created from nginx:1.25"
    summary = view.findChild(QLabel, "timeline-summary").text()
    # Why did it restart? The summary says, with the cause's own words.
    assert summary.startswith("Restarted 1 time. Last restart at 09:01:07, after: exited with "
                              "code 137 (killed: out of memory) (09:01:05)")
    view.append(HistoryEntry("stopped", "stopped by a person", base + 120))
    assert view.row_texts()[0].startswith("09:02:00 stopped")
    yesterday = base - 86400
    view.append(HistoryEntry("reconnect", "the engine is back", yesterday))
    assert view.row_texts()[-1].startswith(time.strftime("%Y-%m-%d", time.localtime(yesterday)))
    assert [e.kind for e in view.entries()][:2] == ["stopped", "restarted"]


def test_timeline_empty(qtbot: QtBot) -> None:
    view = TimelineView()
    qtbot.addWidget(view)
    view.show()
    view.set_entries([])
    assert view.findChild(QLabel, "timeline-empty").isVisible()


def _progress(step: int) -> PullProgress:
    layers = tuple(
        LayerProgress(f"{i:02d}abcdef0123", "Downloading", min(step * 1_000_000, 4_000_000),
                      4_000_000) if i < 19 else
        LayerProgress(f"{i:02d}abcdef0123", "Already exists", 0, 0)
        for i in range(20))
    current = sum(layer.current for layer in layers)
    return PullProgress("registry.local:5000/acme/sensor:2.0", layers, current, 19 * 4_000_000)


def test_pull_progress_rows_and_total(qtbot: QtBot) -> None:
    view = PullProgressView()
    qtbot.addWidget(view)
    view.show()
    view.update_progress(_progress(1))
    assert len(view.layer_ids()) == 20
    assert view.layer_text("00abcdef0123") == ("Downloading", "1.0 MB of 4.0 MB")
    assert view.layer_text("19abcdef0123")[0] == "Already exists"
    total = view.findChild(QWidget, "pull-total")
    assert total.format() == "19.0 MB of 76.0 MB  (25%)"  # type: ignore[attr-defined]
    assert "1 of 20 layers done" in view.findChild(QLabel, "pull-title").text()
    started = time.perf_counter()
    for step in range(2, 42):  # ten seconds of updates at four a second
        view.update_progress(_progress(step))
    assert time.perf_counter() - started < 2.0
    assert view.layer_text("00abcdef0123") == ("Downloading", "4.0 MB of 4.0 MB")
    assert len(view.layer_ids()) == 20
    view.update_progress(PullProgress("busybox:1.36", (), 0, 0))  # another pull: rows anew
    assert view.layer_ids() == []



def test_a_long_instance_name_is_shortened_in_the_middle_on_its_button(qtbot: QtBot) -> None:
    from ui.inventory.widgets import ElidingButton

    button = ElidingButton()
    qtbot.addWidget(button)
    full = "Open moorings-test-a-very-long-instance-name-for-the-pump-station-17  ›"
    button.set_full_text(full)
    button.show()
    button.resize(220, 44)
    text = button.text()
    assert "…" in text
    assert text.startswith("Open moorings")
    assert text.endswith("17  ›")
    assert button.fontMetrics().horizontalAdvance(text) <= 220 - ElidingButton.PADDING
    assert button.full_text() == full
    button.resize(button.sizeHint().width(), 44)  # room enough: the whole text
    assert button.text() == full


def test_search_boxes_are_technical_for_an_on_screen_keyboard(
        qtbot: QtBot, page: ContainersPage, bridge: CoreBridge, inventory: FakeInventory) -> None:
    images = ImagesPage(bridge, inventory)
    qtbot.addWidget(images)
    logs = LogsDialog(bridge, None, WEB.id, "web", opener=lambda *a, **k: None)
    qtbot.addWidget(logs)
    for box in (page.filter, images.filter, logs.filter):
        hints = box.inputMethodHints()
        assert hints & Qt.InputMethodHint.ImhNoAutoUppercase, box.objectName()
        assert hints & Qt.InputMethodHint.ImhNoPredictiveText, box.objectName()


def test_column_headers_are_touch_targets(
        qtbot: QtBot, page: ContainersPage, bridge: CoreBridge, inventory: FakeInventory) -> None:
    images = ImagesPage(bridge, inventory)
    qtbot.addWidget(images)
    images.resize(800, 480)
    images.show()
    qtbot.waitExposed(images)
    page.resize(800, 480)
    for table in (page.table, images.table):
        assert table.horizontalHeader().height() >= 44, table.objectName()

"""The window over an orchestrator that is not started (no engine): what the pages show for
each state, and what their buttons ask of the core. Offscreen; statuses are the core's own."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QApplication, QPushButton, QScrollArea, QWidget
from pytestqt.qtbot import QtBot

from app.config.repository import ConfigRepository
from app.config.store import ConfigStore
from app.metatype import load_catalog
from app.orchestrator.service import Orchestrator
from app.orchestrator.state import InstanceStatus, Phase
from ui.application import load_style
from ui.bridge import CoreBridge
from ui.main_window import MainWindow
from ui.services.badges import badge_key, badge_text, status_sentence
from ui.services.tree_model import STATUS_ROLE

pytestmark = pytest.mark.gui

NAME = "moorings-test-states"
WEB_ID = "a1b2" * 8  # the fake inventory's container "web" (tests/test_gui_inventory.py)


class Calls:
    """Stands in for the orchestrator's person-requests: records them, answers with Futures
    the test settles."""

    def __init__(self) -> None:
        self.made: list[tuple[str, str]] = []
        self.futures: list[Future[Any]] = []

    def __call__(self, verb: str) -> Any:
        def request(name: str, *_args: Any) -> Future[Any]:
            self.made.append((verb, name))
            future: Future[Any] = Future()
            self.futures.append(future)
            return future
        return request


@pytest.fixture
def orch(tmp_path: Path) -> Iterator[Orchestrator]:
    repo = ConfigRepository(ConfigStore(tmp_path / "cfg"), load_catalog())
    repo.create_instance(NAME, values={"container.ports.internal": "",
                                       "container.ports.external": ""})
    return Orchestrator(repo)


@pytest.fixture
def calls(orch: Orchestrator, monkeypatch: pytest.MonkeyPatch) -> Calls:
    recorder = Calls()
    for verb in ("start_container", "stop_container", "retry_instance", "apply"):
        monkeypatch.setattr(orch, verb, recorder(verb))
    return recorder


@pytest.fixture
def window(qtbot: QtBot, orch: Orchestrator, calls: Calls) -> Iterator[MainWindow]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyleSheet(load_style())
    bridge = CoreBridge(orch)
    win = MainWindow(bridge)
    win.confirm = lambda title, text, yes: True  # type: ignore[method-assign]
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    win.select_instance(NAME)
    assert win.instance_page is not None
    assert win.instance_page.name == NAME
    yield win
    bridge.detach()


def _status(phase: Phase, **kw: Any) -> InstanceStatus:
    return InstanceStatus(NAME, phase, **kw)


def _tree_badge(win: MainWindow) -> str:
    row = win.model.row_of(NAME)
    return str(win.model.index(row, 1).data())


def _click(qtbot: QtBot, button: QPushButton) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


# --- item 13: an Apply that went through leaves nothing unapplied ---------------------------

def test_after_an_apply_went_through_apply_and_reset_are_off(
        qtbot: QtBot, window: MainWindow, calls: Calls) -> None:
    page = window.instance_page
    assert page is not None
    edit = page.form.editor("container.env")
    edit.setFocus()
    qtbot.keyClicks(edit, "MODE=two")
    qtbot.waitUntil(lambda: page.apply_button.isEnabled())
    assert page.reset_button.isEnabled()
    _click(qtbot, page.apply_button)
    assert calls.made == [("apply", NAME)]
    assert not page.apply_button.isEnabled()  # busy
    stored = {**page.form.values(), "container.env": "MODE=two"}

    class Stored:
        values = stored
    calls.futures[-1].set_result(Stored())
    qtbot.waitUntil(lambda: page.apply_button.text() == "Apply")
    qtbot.waitUntil(lambda: not page.apply_button.isEnabled())
    assert not page.reset_button.isEnabled(), "Reset stays on after the apply went through"
    assert not page.form.is_dirty()
    # The container running afterwards changes nothing of that.
    window.services.flows.on_state(_status(Phase.RUNNING, container_id="c" * 64))
    assert not page.apply_button.isEnabled()
    assert not page.reset_button.isEnabled()


def test_edits_made_while_an_apply_runs_stay_unapplied(
        qtbot: QtBot, window: MainWindow, calls: Calls) -> None:
    page = window.instance_page
    assert page is not None
    edit = page.form.editor("container.env")
    edit.setFocus()
    qtbot.keyClicks(edit, "MODE=two")
    qtbot.waitUntil(lambda: page.apply_button.isEnabled())
    _click(qtbot, page.apply_button)
    sent = page.form.values()
    qtbot.keyClicks(edit, ",X=1")  # still typing while it applies

    class Stored:
        values = sent
    calls.futures[-1].set_result(Stored())
    qtbot.waitUntil(lambda: page.apply_button.text() == "Apply")
    assert page.form.values()["container.env"] == "MODE=two,X=1"
    qtbot.waitUntil(lambda: page.apply_button.isEnabled())
    assert page.reset_button.isEnabled()


# --- item 18 and item 1: stopping, failed, retry ----------------------------------------------

def test_while_a_stop_is_under_way_the_badges_say_stopping_and_stop_is_off(
        qtbot: QtBot, window: MainWindow, calls: Calls) -> None:
    page = window.instance_page
    assert page is not None
    window.services.flows.on_state(_status(Phase.RUNNING, container_id="c" * 64))
    assert page.start_stop.text() == "Stop"
    _click(qtbot, page.start_stop)
    assert calls.made == [("stop_container", NAME)]
    assert page.badge.text() == "stopping"
    assert _tree_badge(window) == "stopping"
    assert page.status_line.text().startswith("Stopping since")
    assert not page.start_stop.isEnabled()
    assert page.start_stop.text() == "Stopping…"
    # The engine still reports the container running (it has 10 s to end): still stopping.
    window.services.flows.on_state(_status(Phase.RUNNING, container_id="c" * 64))
    assert page.badge.text() == "stopping"
    assert not page.start_stop.isEnabled()
    # It stopped.
    window.services.flows.on_state(_status(Phase.STOPPED_BY_PERSON, reason="stopped by a person"))
    calls.futures[-1].set_result(None)
    qtbot.waitUntil(lambda: page.start_stop.text() == "Start")
    assert page.badge.text() == "stopped"
    assert _tree_badge(window) == "stopped"
    assert page.start_stop.isEnabled()


def test_a_refused_stop_shows_why_and_the_container_is_running_again(
        qtbot: QtBot, window: MainWindow, calls: Calls) -> None:
    from app.engine.errors import EngineError

    page = window.instance_page
    assert page is not None
    window.services.flows.on_state(_status(Phase.RUNNING, container_id="c" * 64))
    _click(qtbot, page.start_stop)
    calls.futures[-1].set_exception(EngineError("the engine refused to stop it."))
    qtbot.waitUntil(lambda: page.badge.text() == "running")
    assert page.start_stop.text() == "Stop"
    assert page.start_stop.isEnabled()
    assert "refused" in page.status_line.text()


def test_the_core_s_stopping_phase_has_its_badge_and_stop_is_off(
        qtbot: QtBot, window: MainWindow) -> None:
    page = window.instance_page
    assert page is not None
    status = _status(Phase.STOPPING, container_id="c" * 64)
    assert badge_text(status) == "stopping"
    assert badge_key(status) == "stopping"
    window.services.flows.on_state(status)
    assert page.badge.text() == "stopping"
    assert _tree_badge(window) == "stopping"
    assert not page.start_stop.isEnabled()
    assert "Stopping since" in status_sentence(status)
    tree_status = window.model.index(window.model.row_of(NAME), 0).data(STATUS_ROLE)
    assert tree_status.phase is Phase.STOPPING
    style = load_style()
    assert 'QLabel[badge="stopping"]' in style


def test_a_failed_instance_offers_retry_which_asks_the_core_to_retry(
        qtbot: QtBot, window: MainWindow, calls: Calls) -> None:
    page = window.instance_page
    assert page is not None
    window.services.flows.on_state(_status(
        Phase.FAILED, reason="gave up after 3 attempts: the registry refused the password. "
                             "Fix the cause, then press Apply to try again."))
    assert page.badge.text() == "failed"
    assert page.start_stop.text() == "Retry"
    assert "Retry" in page.status_line.text()
    _click(qtbot, page.start_stop)
    assert calls.made == [("retry_instance", NAME)]


def test_running_since_is_the_engine_s_start_of_the_container() -> None:
    started = time.mktime((2026, 3, 1, 7, 5, 9, 0, 0, -1))
    since = time.mktime((2026, 3, 4, 12, 0, 0, 0, 0, -1))
    status = _status(Phase.RUNNING, since=since, started_at=started)
    assert "Running since 2026-03-01 07:05:09" in status_sentence(status)
    assert "Running since 2026-03-04 12:00:00" in status_sentence(
        _status(Phase.RUNNING, since=since))
    today = time.time() - 5
    assert f"Running since {time.strftime('%H:%M:%S', time.localtime(today))}" in \
        status_sentence(_status(Phase.RUNNING, since=time.time(), started_at=today))


# --- item 15: the header keeps the engine's address readable on the panel ------------------

GATEWAY = "tcp://gateway-17.example.net:2376"


@pytest.fixture
def desktop_font() -> Iterator[None]:
    """11 pt, a Debian desktop's default (the offscreen platform's is 9 pt)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = app.font()
    font = app.font()
    font.setPointSizeF(11.0)
    app.setFont(font)
    yield
    app.setFont(before)


@pytest.mark.usefixtures("desktop_font")
def test_at_800x480_the_header_shows_the_whole_engine_address(
        qtbot: QtBot, window: MainWindow) -> None:
    from app.orchestrator.events import ConnectionChanged

    window.resize(800, 480)
    qtbot.waitUntil(lambda: window.touch_layout)
    window._on_connection(ConnectionChanged(False, GATEWAY, "connection refused"))
    for where in ("page", "tree"):
        if where == "page":
            window.select_instance(NAME)
            qtbot.waitUntil(lambda: window.back_button.isVisible())
        else:
            window.show_tree()
        qtbot.wait(20)
        label = window.host_label
        assert label.width() >= 220, f"{where}: the address gets {label.width()} px"
        shown = label.text()
        # What is shown fits (a QLabel cuts what does not, mid-letter) and says which
        # gateway: its name and its port, shortened in the middle if at all.
        assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width(), \
            f"{where}: {shown!r} is cut at {label.width()} px"
        assert shown == GATEWAY, f"{where}: shown as {shown!r}"
    assert window.host_label.accessibleName() == f"Docker engine: {GATEWAY}"
    for button in (window.back_button, *window.nav_buttons.values()):
        assert button.height() >= 44, button.text()


# --- item 10: an unsafe engine connection is said in the header and in the settings -------

def test_an_unsafe_engine_is_warned_of_in_the_header_while_connected(
        qtbot: QtBot, window: MainWindow, orch: Orchestrator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from app.engine.hosts import EngineTarget
    from app.orchestrator.events import ConnectionChanged

    plain = EngineTarget(url="tcp://127.0.0.1:2375")
    monkeypatch.setattr(orch, "target", lambda: plain)
    window._on_connection(ConnectionChanged(True, plain.url, api_version="1.41"))
    warning = window.security_warning
    assert warning.isVisible()
    sentence = plain.security_warning()
    assert sentence is not None
    assert sentence in warning.text()
    # Not connected (any more): nothing is at risk through this window.
    window._on_connection(ConnectionChanged(False, plain.url, "connection refused"))
    assert not warning.isVisible()
    safe = EngineTarget(url="unix:///var/run/docker.sock")
    monkeypatch.setattr(orch, "target", lambda: safe)
    window._on_connection(ConnectionChanged(True, safe.url, api_version="1.41"))
    assert not warning.isVisible()


def test_the_service_settings_warn_of_an_unsafe_engine_as_they_are_edited(
        qtbot: QtBot, window: MainWindow) -> None:
    window.select_service()
    page = window.service_page
    assert page is not None
    warning = page.security_warning
    assert not warning.isVisible()  # the local socket
    host = page.form.editor("container.engine.host")
    host.setFocus()
    host.selectAll()
    qtbot.keyClicks(host, "tcp://127.0.0.1:2375")
    assert warning.isVisible()
    assert "without TLS" in warning.text()
    ca = page.form.editor("tls.ca.cert")
    ca.setFocus()
    qtbot.keyClicks(ca, "/etc/moorings/ca.pem")
    assert warning.isVisible()
    assert "without a client certificate" in warning.text()
    for field, path in (("tls.client.cert", "/etc/moorings/cert.pem"),
                        ("tls.client.key", "/etc/moorings/key.pem")):
        editor = page.form.editor(field)
        editor.setFocus()
        qtbot.keyClicks(editor, path)
    assert not warning.isVisible(), warning.text()
    verify = page.form.editor("tls.verify")
    qtbot.mouseClick(verify, Qt.MouseButton.LeftButton)
    assert warning.isVisible()
    assert "verification is off" in warning.text()
    _click(qtbot, page.reset_button)
    assert not warning.isVisible()


# --- item 16: a screen reader can operate the window ----------------------------------------

def _name(widget: QWidget) -> str:
    iface = QAccessible.queryAccessibleInterface(widget)
    assert iface is not None, widget.objectName()
    return str(iface.text(QAccessible.Text.Name))


def _tab_stops(top: QWidget) -> list[QWidget]:
    stops: list[QWidget] = []
    seen: set[int] = set()
    widget = top.nextInFocusChain()
    while widget is not top and id(widget) not in seen:
        seen.add(id(widget))
        if (widget.focusPolicy() & Qt.FocusPolicy.TabFocus) and widget.isVisible() \
                and widget.isEnabled() and top.isAncestorOf(widget):
            stops.append(widget)
        widget = widget.nextInFocusChain()
    return stops


def _check_tab_stops(top: QWidget, where: str) -> None:
    stops = _tab_stops(top)
    assert stops, where
    for widget in stops:
        label = f"{where}: {type(widget).__name__} {widget.objectName()!r}"
        assert type(widget) is not QScrollArea, f"{label} is an inert tab stop"
        assert _name(widget).strip(), f"{label} has no accessible name"


@pytest.fixture
def full_window(qtbot: QtBot, orch: Orchestrator) -> Iterator[MainWindow]:
    from test_gui_inventory import OLD, SENSOR, WEB, FakeInventory, irow

    inventory = FakeInventory([WEB, SENSOR, OLD], [irow("1", "nginx", "1.25",
                                                        used_by=("web",))])
    bridge = CoreBridge(orch, inventory)
    win = MainWindow(bridge)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    bridge.detach()


def test_every_control_has_a_name_a_screen_reader_can_say(
        qtbot: QtBot, full_window: MainWindow) -> None:
    win = full_window
    assert _name(win.tree) == "Services"
    win.select_service()
    _check_tab_stops(win, "service page")
    assert win.service_page is not None
    assert _name(win.service_page.status_line).startswith("Status: Connecting")
    win.select_instance(NAME)
    page = win.instance_page
    assert page is not None
    qtbot.waitUntil(lambda: page.isVisible())
    _check_tab_stops(win, "instance page")
    assert _name(page.status_line).startswith("Status: Disabled")
    # A dropdown is its label, with the choice as its value (not the value as its name).
    logger = page.form.editor("container.loggingType")
    iface = QAccessible.queryAccessibleInterface(logger)
    assert iface.text(QAccessible.Text.Name) == "Logger Type"
    assert iface.text(QAccessible.Text.Value) == logger.currentText()
    assert iface.role() == QAccessible.Role.ComboBox

    win.show_section("containers")
    containers = win.containers_page
    assert containers is not None
    qtbot.waitUntil(lambda: containers.isVisible())
    assert _name(containers.table) == "Containers"
    assert _name(containers.status).startswith("Status: ● Live")
    containers.select(WEB_ID)
    _check_tab_stops(win, "containers")
    dialog = containers.open_logs()
    assert dialog is not None
    assert _name(dialog.view) == "Log of web"  # type: ignore[attr-defined]
    dialog.close()

    win.show_section("images")
    images = win.images_page
    assert images is not None
    qtbot.waitUntil(lambda: images.isVisible())
    assert _name(images.table) == "Images"
    _check_tab_stops(win, "images")


def test_the_factory_dialog_is_named_for_a_screen_reader(
        qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.open_factory_dialog()
    qtbot.waitExposed(dialog)
    combo = QAccessible.queryAccessibleInterface(dialog.factory)
    assert combo.text(QAccessible.Text.Name) == "Factory"
    assert combo.text(QAccessible.Text.Value) == "Container Instance"
    assert _name(dialog.name) == "Name"
    _check_tab_stops(dialog, "factory dialog")
    dialog.reject()


# --- issue 12: results come home one way, creation arrives as an event, one progress path ---

OTHER = "moorings-test-states-other"


def _add_elsewhere(window: MainWindow, orch: Orchestrator, name: str) -> None:
    """Store an instance and tell the window as the core does (InstanceAdded)."""
    orch.repository.create_instance(name, values={"container.ports.internal": "",
                                                  "container.ports.external": ""})
    window.bridge.instance_added.emit(name)


def test_a_created_instance_enters_the_tree_when_the_core_says_so(
        qtbot: QtBot, window: MainWindow, orch: Orchestrator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    created: dict[str, Future[Any]] = {}

    def create_instance(name: str, *_args: Any, **_kw: Any) -> Future[Any]:
        created[name] = Future()
        return created[name]
    monkeypatch.setattr(orch, "create_instance", create_instance)
    for name, event_first in ((OTHER, False), (OTHER + "-2", True)):
        dialog = window.open_factory_dialog()
        dialog.name.setText(name)
        _click(qtbot, dialog.submit)
        qtbot.waitUntil(lambda n=name: n in created)  # type: ignore[misc]
        orch.repository.create_instance(name, values={})  # what the core stores
        if event_first:
            window.bridge.instance_added.emit(name)
            assert window.model.row_of(name) > 0
        created[name].set_result(orch.repository.instance(name))
        qtbot.wait(50)
        if not event_first:
            # The answer alone does not put it in the tree: the core's event does.
            assert window.model.row_of(name) < 0
            window.bridge.instance_added.emit(name)
        assert window.model.row_of(name) > 0
        # Either way, the new instance is selected once it is there.
        qtbot.waitUntil(lambda n=name: window.instance_page is not None  # type: ignore[misc]
                        and window.instance_page.name == n)
        assert window.model.instance_names().count(name) == 1


def test_each_step_of_a_pull_reaches_the_instance_page_once(
        qtbot: QtBot, window: MainWindow, orch: Orchestrator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from app.engine.progress import LayerProgress, PullProgress
    from app.orchestrator.events import PullProgressed, StateChanged

    page = window.instance_page
    assert page is not None
    shown: list[object] = []
    update = page.pull_view.update_progress

    def counted(progress: PullProgress) -> None:
        shown.append(progress)
        update(progress)
    monkeypatch.setattr(page.pull_view, "update_progress", counted)
    page.history_button.setChecked(True)
    read: list[str] = []
    history = orch.history
    monkeypatch.setattr(orch, "history", lambda name: read.append(name) or history(name))
    core = window.bridge._on_core_event  # what the orchestrator calls, on its own thread
    pulling = _status(Phase.PULLING, reason="pulling nginx:1.25")

    for i, current in enumerate((0, 400, 800)):
        progress = PullProgress("nginx:1.25", (LayerProgress("a" * 64, "Downloading",
                                                             current, 1000),), current, 1000)
        status = pulling.with_(progress=progress)  # as the core's pull step makes it

        def tick(status: InstanceStatus = status, progress: PullProgress = progress) -> None:
            core(StateChanged(status))  # the core sends both at each step
            core(PullProgressed(NAME, progress))
        worker = threading.Thread(target=tick)
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda c=current: page.badge.text() == f"pulling {c // 10}%")
        qtbot.wait(20)
        assert len(shown) == i + 1, "a step of the pull reached the page twice"
        if i == 0:
            read_at_start = len(read)  # History opened, then the phase became pulling
        # The history changes with the phase, not with each step of a pull.
        assert len(read) == read_at_start
    assert page.pull_view.isVisible()


def test_an_answer_for_a_page_that_is_gone_is_dropped(
        qtbot: QtBot, window: MainWindow, orch: Orchestrator, calls: Calls) -> None:
    from PySide6.QtCore import QCoreApplication, QEvent

    _add_elsewhere(window, orch, OTHER)
    page = window.instance_page
    assert page is not None
    edit = page.form.editor("container.env")
    edit.setFocus()
    qtbot.keyClicks(edit, "MODE=two")
    qtbot.waitUntil(lambda: page.apply_button.isEnabled())
    _click(qtbot, page.apply_button)
    assert calls.made == [("apply", NAME)]
    window.select_instance(OTHER)  # the person goes on to another instance meanwhile
    other = window.instance_page
    assert other is not None
    assert other.name == OTHER
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    calls.futures[-1].set_exception(RuntimeError("the engine went away"))
    qtbot.wait(50)  # a callback that touched the deleted page would fail this test here
    assert "Apply failed" not in other.status_line.text()
    assert other.apply_button.text() == "Apply"


def test_apply_does_not_validate_again_what_the_pause_in_typing_validated(
        qtbot: QtBot, window: MainWindow, calls: Calls, monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.form.component_form as component_form

    page = window.instance_page
    assert page is not None
    checks: list[dict[str, object]] = []
    validate = component_form.validate_values

    def counted(component: Any, values: Any, name: Any = None) -> Any:
        checks.append(dict(values))
        return validate(component, values, name)
    monkeypatch.setattr(component_form, "validate_values", counted)
    edit = page.form.editor("container.env")
    edit.setFocus()
    qtbot.keyClicks(edit, "MODE=two")  # eight keys
    qtbot.waitUntil(lambda: page.apply_button.isEnabled())
    debounce = page.form.findChild(QTimer, "form-debounce")
    qtbot.waitUntil(lambda: not debounce.isActive())
    assert len(checks) == 1, "checked at every key, not once the typing paused"
    _click(qtbot, page.apply_button)
    assert calls.made == [("apply", NAME)]
    assert len(checks) == 1, "Apply checked again what had just been checked"
    # Something changed since the last check: Apply checks it (and refuses it).
    page.form.field_editor("container.memory").set_value("lots")
    calls.futures[-1].set_result(None)  # (the first apply's answer: nothing to keep)
    qtbot.waitUntil(lambda: page.apply_button.text() == "Apply")
    window.apply_instance()
    assert len(checks) == 2
    assert calls.made == [("apply", NAME)]
    assert page.form.error_label("container.memory").isVisibleTo(page)


def test_the_page_badge_is_coloured_by_its_property_not_a_style_sheet_of_its_own(
        qtbot: QtBot, window: MainWindow) -> None:
    page = window.instance_page
    assert page is not None
    for status, key in ((_status(Phase.RUNNING), "running"), (_status(Phase.FAILED), "failed"),
                        (_status(Phase.EXITED, exit_code=0), "exited-clean"),
                        (_status(Phase.EXITED, exit_code=3), "exited")):
        window.services.flows.on_state(status)
        assert page.badge.property("badge") == key
        assert page.badge.styleSheet() == ""
    for widget in window.findChildren(QWidget):
        assert widget.styleSheet() == "", widget.objectName()


def test_every_signal_of_the_bridge_has_a_receiver(full_window: MainWindow) -> None:
    from PySide6.QtCore import QMetaMethod

    bridge = full_window.bridge
    meta = bridge.metaObject()
    unheard = []
    for i in range(meta.methodOffset(), meta.methodCount()):
        method = meta.method(i)
        if method.methodType() == QMetaMethod.MethodType.Signal \
                and not bridge.isSignalConnected(method):
            unheard.append(bytes(method.methodSignature()).decode())
    assert unheard == [], "signals that cost a trip to the GUI thread for no one"

"""The window over the real orchestrator and engine: the seed's flows, driven like a person."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from harness import ROOT, TestEnv
from orchestration import SLEEPER, instance_values, make_orchestrator
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from app import threadguard
from app.config.repository import ConfigRepository
from app.config.store import ConfigStore
from app.metatype import load_catalog
from app.orchestrator.service import Orchestrator
from app.orchestrator.state import Phase
from ui.application import load_style
from ui.bridge import CoreBridge
from ui.main_window import MainWindow
from ui.services.tree_model import ServicesModel

pytestmark = [pytest.mark.engine, pytest.mark.gui, pytest.mark.usefixtures("cleanup")]


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, test_env: TestEnv) -> Iterator[MainWindow]:
    orch = make_orchestrator(tmp_path, test_env)
    bridge = CoreBridge(orch)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyleSheet(load_style())  # as the application does
    # From here on, an engine call or a file write on this (the GUI) thread raises.
    threadguard.forbid_current_thread()
    win = MainWindow(bridge)
    # A modal question would wait for a person forever; tests answer "yes" unless they
    # replace this with their own answers.
    win.confirm = lambda title, text, yes: True  # type: ignore[method-assign]
    qtbot.addWidget(win)
    orch.start()
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    try:
        yield win
    finally:
        threadguard.allow_current_thread()
        bridge.detach()
        orch.stop()


def _orch(win: MainWindow) -> Orchestrator:
    return win.orch


def _wait_phase(qtbot: QtBot, win: MainWindow, name: str, phase: Phase,
                timeout: int = 60_000) -> None:
    def check() -> None:
        st = win.model.status(name)
        assert st is not None
        assert st.phase is phase, st.summary()
    qtbot.waitUntil(check, timeout=timeout)


def _create_through_dialog(qtbot: QtBot, win: MainWindow, name: str) -> None:
    qtbot.mouseClick(win.findChild(QPushButton, "add-instance"), Qt.MouseButton.LeftButton)
    dialog = win.factory_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    assert dialog.factory.currentText() == "Container Instance"
    assert dialog.factory_pid() == "org.eclipse.kura.container.provider.ContainerInstance"
    dialog.name.setText(name)
    qtbot.mouseClick(dialog.findChild(QPushButton, "create"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.instance_page is not None and win.instance_page.name == name,
                    timeout=30_000)


def _set(win: MainWindow, field_id: str, value: object) -> None:
    page = win.instance_page
    assert page is not None
    editor = page.form.field_editor(field_id)
    editor.set_value(value)
    # set_value does not count as typing; this is what a person's edit signals.
    page.form.changed.emit()
    page.form.validate()
    page._refresh_buttons()


def test_create_apply_change_disable_delete(qtbot: QtBot, window: MainWindow,
                                           test_env: TestEnv,
                                           docker_client: docker.DockerClient) -> None:
    win = window
    name = "moorings-test-gui"
    _create_through_dialog(qtbot, win, name)
    assert win.model.row_of(name) > 0
    page = win.instance_page
    assert page is not None
    for field_id, value in [("container.image", test_env.image_repo),
                            ("container.image.tag", test_env.image_tag),
                            ("container.ports.internal", ""),
                            ("container.ports.external", ""),
                            ("container.entrypoint", SLEEPER),
                            ("container.enabled", True)]:
        _set(win, field_id, value)
    apply = page.findChild(QPushButton, "apply")
    assert apply.isEnabled()
    qtbot.mouseClick(apply, Qt.MouseButton.LeftButton)
    _wait_phase(qtbot, win, name, Phase.RUNNING)
    qtbot.waitUntil(lambda: page.badge.text() == "running", timeout=10_000)
    first = docker_client.containers.get(name).id
    assert "Running since" in page.status_line.text()

    # Change a field: the container is recreated.
    qtbot.waitUntil(lambda: not page.form.is_dirty(), timeout=10_000)
    _set(win, "container.env", "MODE=two")
    qtbot.mouseClick(apply, Qt.MouseButton.LeftButton)
    def recreated() -> bool:
        found = docker_client.api.containers(all=True, filters={"name": f"^/{name}$"})
        return bool(found) and found[0]["Id"] != first  # absent for a moment while recreating
    qtbot.waitUntil(recreated, timeout=60_000)
    _wait_phase(qtbot, win, name, Phase.RUNNING)
    assert "MODE=two" in docker_client.containers.get(name).attrs["Config"]["Env"]

    # Disable: the container goes, the component stays.
    qtbot.waitUntil(lambda: not page.form.is_dirty(), timeout=10_000)
    _set(win, "container.enabled", False)
    qtbot.mouseClick(apply, Qt.MouseButton.LeftButton)
    _wait_phase(qtbot, win, name, Phase.DISABLED)
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(name)
    assert win.repo.has_instance(name)

    # Delete asks first, naming what goes; a refusal changes nothing.
    asked: list[str] = []
    answers = [False, True]

    def confirm(title: str, text: str, yes: str) -> bool:
        asked.append(text)
        return answers.pop(0)
    win.confirm = confirm  # type: ignore[method-assign]
    delete = page.findChild(QPushButton, "delete")
    qtbot.mouseClick(delete, Qt.MouseButton.LeftButton)
    assert win.repo.has_instance(name)
    qtbot.mouseClick(delete, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.model.row_of(name) < 0, timeout=30_000)
    assert f"removes the container {name}" in asked[0]
    assert not win.repo.has_instance(name)


def test_invalid_input_is_shown_at_the_field_and_changes_nothing(
        qtbot: QtBot, window: MainWindow, test_env: TestEnv, tmp_path: Path,
        docker_client: docker.DockerClient) -> None:
    win = window
    name = "moorings-test-gui-invalid"
    _orch(win).create_instance(name, {
        "container.enabled": True, "container.image": test_env.image_repo,
        "container.image.tag": test_env.image_tag, "container.ports.internal": "",
        "container.ports.external": "", "container.entrypoint": SLEEPER}).result(30)
    _wait_phase(qtbot, win, name, Phase.RUNNING)
    win.select_instance(name)
    page = win.instance_page
    assert page is not None
    cid = docker_client.containers.get(name).id
    stored = (tmp_path / "moorings.json").read_bytes()
    _set(win, "container.ports.internal", "80-90x")
    error = page.findChild(QLabel, "error:container.ports.internal")
    assert error.isVisible()
    assert "80-90x" in error.text()
    assert not page.findChild(QPushButton, "apply").isEnabled()
    win.apply_instance()  # even forced, an invalid form never leaves the window
    qtbot.wait(300)
    assert (tmp_path / "moorings.json").read_bytes() == stored
    assert docker_client.containers.get(name).id == cid
    assert docker_client.containers.get(name).status == "running"


def test_password_is_never_plain_text(qtbot: QtBot, window: MainWindow, test_env: TestEnv,
                                      tmp_path: Path) -> None:
    win = window
    name = "moorings-test-gui-secret"
    secret = "Very-s3cret-pass"
    _orch(win).create_instance(name, {
        "container.image": test_env.image_repo, "registry.username": "tech",
        "registry.password": secret, "container.ports.internal": "",
        "container.ports.external": ""}).result(30)
    qtbot.waitUntil(lambda: win.model.row_of(name) > 0)  # the row arrives through the bridge
    win.select_instance(name)
    page = win.instance_page
    assert page is not None
    qtbot.waitUntil(lambda: page.isVisible())
    pw = page.findChild(QLineEdit, "field:registry.password")
    assert pw.echoMode() == QLineEdit.EchoMode.Password
    assert pw.displayText() != secret
    for w in win.findChildren(QWidget):
        for text in (getattr(w, "toolTip", lambda: "")(), getattr(w, "accessibleName",
                                                                   lambda: "")()):
            assert secret not in text
        if isinstance(w, QLabel):
            assert secret not in w.text()
    assert secret not in (tmp_path / "moorings.json").read_text()
    assert ((tmp_path / "secrets.json").stat().st_mode & 0o777) == 0o600


def test_touch_layout_at_800x480(qtbot: QtBot, window: MainWindow) -> None:
    win = window
    win.resize(800, 480)
    qtbot.waitUntil(lambda: win.touch_layout)
    back = win.findChild(QPushButton, "back")
    assert not back.isVisible()
    win.select_service()
    win.tree.setCurrentIndex(win.model.index(0, 0))
    win.services.show_page()
    qtbot.waitUntil(back.isVisible)
    for button in win.findChildren(QPushButton):
        if button.isVisible():
            assert button.height() >= 44, button.objectName()
    qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.tree.isVisible())
    assert win.tree.sizeHintForRow(0) >= 44
    # A tap on the row that is still current (the service) opens its page again.
    row = win.tree.visualRect(win.model.index(0, 0))
    qtbot.mouseClick(win.tree.viewport(), Qt.MouseButton.LeftButton, pos=row.center())
    qtbot.waitUntil(lambda: win.service_page is not None and win.service_page.isVisible())
    qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.tree.isVisible())
    win.resize(1280, 800)
    qtbot.waitUntil(lambda: not win.touch_layout)
    assert win.tree.isVisible()
    assert win.pages.isVisible()


def test_header_names_the_engine_and_its_state(qtbot: QtBot, window: MainWindow,
                                               test_env: TestEnv) -> None:
    win = window
    qtbot.waitUntil(lambda: "live" in win.connection_label.text(), timeout=30_000)
    assert win.host_label.text() == test_env.docker_host
    assert win.model.index(0, 1).data() == "live"


def test_services_model_passes_the_model_tester(qtmodeltester: object) -> None:
    from app.orchestrator.state import InstanceStatus

    model = ServicesModel("ContainerOrchestrationService")
    model.set_instances(["bb", "aa"])
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    model.update_status(InstanceStatus("aa", Phase.RUNNING))
    model.add_instance("cc", InstanceStatus("cc", Phase.PULLING))
    model.remove_instance("bb")
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.instance_names() == ["aa", "cc"]
    assert model.index(1, 1).data() == "running"


def test_containers_section_follows_the_engine(qtbot: QtBot, tmp_path: Path,
                                               test_env: TestEnv,
                                               docker_client: docker.DockerClient) -> None:
    from app.inventory.feed import Inventory
    from ui.inventory.containers_model import ID_ROLE

    orch = make_orchestrator(tmp_path, test_env)
    inventory = Inventory(orch)
    bridge = CoreBridge(orch, inventory)
    threadguard.forbid_current_thread()
    win = MainWindow(bridge)
    win.confirm = lambda title, text, yes: True  # type: ignore[method-assign]
    qtbot.addWidget(win)
    orch.start()
    inventory.start()
    try:
        win.resize(1280, 800)
        win.show()
        win.show_section("containers")
        page = win.containers_page
        assert page is not None
        model = page.model  # type: ignore[attr-defined]

        def ids() -> set[str]:
            return {str(model.index(r, 0).data(ID_ROLE)) for r in range(model.rowCount())}
        by_hand = docker_client.containers.run(test_env.image, ["sleep", "300"], detach=True,
                                               init=True, name="moorings-test-gui-by-hand")
        qtbot.waitUntil(lambda: by_hand.id in ids(), timeout=10_000)
        by_hand.remove(force=True)
        qtbot.waitUntil(lambda: by_hand.id not in ids(), timeout=10_000)
        assert "Live" in page.findChild(QLabel, "inventory-status").text()
    finally:
        threadguard.allow_current_thread()
        inventory.stop(0)
        bridge.detach()
        orch.stop()


def test_before_the_core_loads_the_window_says_so_and_can_be_closed(
        qtbot: QtBot, tmp_path: Path, test_env: TestEnv) -> None:
    # As `moorings` starts: the window first, with the header and a loading line; the tree
    # and its pages come with the core, in the layout the window's width asks for.
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(800, 480)
    # The core loader starts on this signal: the first frame must not wait behind it.
    with qtbot.waitSignal(win.first_frame, timeout=10_000):
        win.show()
    loading = win.findChild(QLabel, "loading")
    assert loading is not None
    assert loading.isVisible()
    assert "Loading" in loading.text()
    assert win.findChild(QWidget, "services-tree") is None
    win.show_section("services")  # a tap on the section before the core: nothing breaks
    win.show_tree()
    assert not win.back_button.isVisible()

    orch = make_orchestrator(tmp_path, test_env)
    bridge = CoreBridge(orch)
    try:
        win.attach(bridge)
        tree = win.findChild(QWidget, "services-tree")
        assert tree is not None
        assert tree.isVisible()
        assert win.touch_layout  # 800 px wide: one pane at a time
        assert win.findChild(QLabel, "loading") is None or not loading.isVisible()
        assert win.model.rowCount() == 1  # the orchestration service, no instances yet
    finally:
        bridge.detach()


def test_a_window_closed_before_the_core_loads_closes(qtbot: QtBot) -> None:
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert win.close()


def test_another_program_s_changes_reach_the_tree_and_the_page(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, test_env: TestEnv) -> None:
    """A config import while the window runs: a new instance appears in the tree and runs; the
    page of a changed instance shows the new values (or, with edits under way, keeps them and
    says so); an instance deleted elsewhere leaves the tree."""
    shown, added = "moorings-test-win-shown", "moorings-test-win-added"
    orch = _orch(window)
    orch.create_instance(shown, instance_values(test_env, **{
        "container.enabled": False})).result(30)
    qtbot.waitUntil(lambda: window.model.row_of(shown) >= 0, timeout=10_000)
    window.select_instance(shown)
    page = window.instance_page
    assert page is not None
    doc = tmp_path / "import.json"
    doc.write_text(json.dumps({"instances": {
        shown: {"properties": instance_values(test_env, **{
            "container.enabled": False, "container.env": "FROM=import"})},
        added: {"properties": instance_values(test_env)}}}))
    child = subprocess.run([sys.executable, "-m", "app", "--config-dir", str(tmp_path), "config",
                            "import", str(doc)], capture_output=True, text=True, timeout=60,
                           cwd=ROOT, check=False)
    assert child.returncode == 0, child.stderr
    qtbot.waitUntil(lambda: window.model.row_of(added) >= 0, timeout=15_000)
    _wait_phase(qtbot, window, added, Phase.RUNNING)
    qtbot.waitUntil(lambda: page.form.values()["container.env"] == "FROM=import",
                    timeout=15_000)
    assert not page.form.is_dirty()

    # Edits under way are kept, and the page says the stored values changed.
    _set(window, "container.env", "MINE=1")
    threadguard.allow_current_thread()  # this test writes the other program's change itself
    try:
        other = ConfigRepository(ConfigStore(tmp_path), load_catalog())
        other.update_instance(shown, {"container.env": "FROM=other"})
        other.delete_instance(added)
    finally:
        threadguard.forbid_current_thread()
    qtbot.waitUntil(lambda: "changed by another program" in page.status_line.text(),
                    timeout=15_000)
    assert page.form.values()["container.env"] == "MINE=1"
    qtbot.waitUntil(lambda: window.model.row_of(added) < 0, timeout=30_000)
    page.form.reset()
    assert page.form.values()["container.env"] == "FROM=other"


def test_import_from_the_window_shows_first_then_adds_the_instance_to_the_tree(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, test_env: TestEnv,
        docker_client: docker.DockerClient) -> None:
    """Import… on a Kura snapshot: nothing changes until Import is pressed (with the GUI thread
    forbidden to touch the disk or the engine), then the tree gains the instance and it runs."""
    from kura_fixture import kura_instance_text

    from ui.transfer.file_chooser import PATH_ROLE

    win = window
    stick = tmp_path / "stick"
    stick.mkdir()
    snapshot = kura_instance_text(test_env)
    (stick / "snapshot_1.xml").write_text(snapshot, encoding="utf-8")
    qtbot.mouseClick(win.findChild(QPushButton, "import-config"), Qt.MouseButton.LeftButton)
    assert win.services is not None
    dialog = win.services.flows.import_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    dialog.chooser.open_folder(stick)
    qtbot.waitUntil(lambda: dialog.chooser.list.count() == 1, timeout=10_000)
    assert str(dialog.chooser.list.item(0).data(PATH_ROLE)).endswith("snapshot_1.xml")
    dialog.chooser.list.setCurrentRow(0)
    qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.steps.currentIndex() == 1, timeout=10_000)
    assert "Would create: moorings-test-kura." in dialog.preview_text.text()
    assert "moorings-test-kura" not in win.model.instance_names()
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "moorings-test-kura" in win.model.instance_names(), timeout=30_000)
    _wait_phase(qtbot, win, "moorings-test-kura", Phase.RUNNING, timeout=90_000)
    assert docker_client.containers.get("moorings-test-kura").status == "running"
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)


def test_turning_enforcement_on_asks_first_naming_what_it_would_stop(
        qtbot: QtBot, window: MainWindow, test_env: TestEnv,
        docker_client: docker.DockerClient) -> None:
    """Apply with "Enforce image allowlist" switched on: the window lists the running containers
    enforcement would stop and applies nothing unless the person says so; then it stops them."""
    from signed_images import images_fixture

    win = window
    made = images_fixture(test_env, docker_client)
    images = next(made)
    try:
        bad_image = images.build()
        entry = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
        bad = docker_client.containers.run(bad_image, name="moorings-test-enf-gui",
                                           entrypoint=entry, detach=True)
        # Everything else running on this shared engine stays allowed.
        keep = {str(c.attrs.get("Image")) for c in docker_client.containers.list()
                if c.id != bad.id}
        win.select_service()
        page = win.service_page
        assert page is not None
        page.form.field_editor("enforcement.allowlist").set_value("\n".join(sorted(keep)))
        page.form.field_editor("enforcement.enabled").set_value(True)
        # set_value does not count as typing; this is what a person's edit signals.
        page.form.changed.emit()
        page.form.validate()
        page._refresh_buttons()
        assert page.apply_button.isEnabled()
        questions: list[tuple[str, str, str]] = []
        win.confirm = lambda title, text, yes: (  # type: ignore[method-assign]
            questions.append((title, text, yes)) or False)
        qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(questions) or "nothing was applied" in page.status_line.text(),
                        timeout=30_000)
        assert questions, page.status_line.text()
        title, text, yes = questions[0]
        assert title == "Turn on enforcement?"
        assert "moorings-test-enf-gui" in text
        assert yes == "Turn on and stop 1"
        qtbot.waitUntil(lambda: "was not turned on" in page.status_line.text(), timeout=5_000)
        assert _orch(win).repository.service_values()["enforcement.enabled"] is False
        bad.reload()
        assert bad.status == "running"

        win.confirm = lambda title, text, yes: True  # type: ignore[method-assign]
        qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: _orch(win).repository.service_values()["enforcement.enabled"]
                        is True, timeout=30_000)

        def stopped() -> None:
            bad.reload()
            assert bad.status == "exited"
        qtbot.waitUntil(stopped, timeout=60_000)
        docker_client.containers.get("moorings-test-enf-gui")  # stopped, not removed
    finally:
        with contextlib.suppress(StopIteration):
            next(made)

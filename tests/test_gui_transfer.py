"""Import configuration… and Export configuration… in the window, on the real engine: the
preview shows what an import would do and writes nothing, Import does it and the instance
runs, errors are listed by instance and field with Import off, a file's service settings are
left alone unless the person ticks them, and an export lands in the chosen folder named for
the gateway, private when it holds passwords."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from harness import TestEnv
from kura_fixture import kura_instance_text
from orchestration import Recorder, running
from pytestqt.qtbot import QtBot

from app.config.kura import ExportFormat
from app.orchestrator.service import Orchestrator
from app.orchestrator.state import Phase
from ui.bridge import CoreBridge
from ui.operations import Operations
from ui.transfer.export_dialog import ExportDialog, default_name
from ui.transfer.file_chooser import PATH_ROLE
from ui.transfer.import_dialog import ImportDialog

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]

KURA = Path(__file__).resolve().parent / "data" / "kura"
NAME = "moorings-test-kura"


@pytest.fixture
def core(tmp_path: Path, test_env: TestEnv) -> Iterator[tuple[Orchestrator, Recorder]]:
    with running(tmp_path / "cfg", test_env) as (orch, rec):
        yield orch, rec


def stick_with(tmp_path: Path, name: str, text: str) -> Path:
    stick = tmp_path / "KINGSTON"
    stick.mkdir(exist_ok=True)
    (stick / name).write_text(text, encoding="utf-8")
    (stick / "photos").mkdir(exist_ok=True)
    (stick / "holiday.jpg").write_bytes(b"\xff\xd8")
    return stick


def kura_text(env: TestEnv) -> str:
    return kura_instance_text(env)


def open_import(qtbot: QtBot, orch: Orchestrator, stick: Path) -> ImportDialog:
    ops = Operations(CoreBridge(orch))
    dialog = ImportDialog(orch.transfers, ops, touch=True)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.chooser.open_folder(stick)
    qtbot.waitUntil(lambda: dialog.chooser.folder == stick, timeout=10_000)
    return dialog


def rows(dialog: ImportDialog | ExportDialog) -> list[str]:
    lst = dialog.chooser.list
    return [lst.item(i).text() for i in range(lst.count())]


def pick(dialog: ImportDialog, name: str) -> None:
    lst = dialog.chooser.list
    for i in range(lst.count()):
        if str(lst.item(i).data(PATH_ROLE)).endswith("/" + name):
            lst.setCurrentRow(i)
            return
    raise AssertionError(f"{name} not listed: {rows(dialog)}")


def test_the_preview_writes_nothing_and_import_runs_the_instance(
        qtbot: QtBot, tmp_path: Path, test_env: TestEnv, core: tuple[Orchestrator, Recorder],
        docker_client: docker.DockerClient) -> None:
    orch, rec = core
    stick = stick_with(tmp_path, "snapshot_1700000000000.xml", kura_text(test_env))
    dialog = open_import(qtbot, orch, stick)
    # Folders, then configuration files; a photo is not offered.
    assert rows(dialog)[0] == "photos"
    assert not any("holiday" in r for r in rows(dialog))
    assert not dialog.preview_button.isEnabled()
    pick(dialog, "snapshot_1700000000000.xml")
    assert dialog.preview_button.isEnabled()
    revision = orch.repository.revision
    dialog.preview_button.click()
    qtbot.waitUntil(lambda: dialog.steps.currentIndex() == 1, timeout=10_000)
    assert "Would create: moorings-test-kura." in dialog.preview_text.text()
    assert "(Kura XML)" in dialog.preview_title.text()
    assert dialog.import_button.isEnabled()
    assert orch.repository.revision == revision
    assert not orch.repository.has_instance(NAME)

    dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.steps.currentIndex() == 2, timeout=30_000)
    assert "Created: moorings-test-kura." in dialog.result_text.text()
    st = rec.wait_phase(NAME, Phase.RUNNING, timeout=90)
    assert docker_client.containers.get(NAME).id == st.container_id


def test_errors_are_listed_by_instance_and_field_and_import_stays_off(
        qtbot: QtBot, tmp_path: Path, test_env: TestEnv,
        core: tuple[Orchestrator, Recorder]) -> None:
    orch, _rec = core
    text = re.sub(r'(name="container.image.download.retries"[^>]*>\s*<esf:value>)[^<]*',
                  r"\1many", kura_text(test_env))
    assert text != kura_text(test_env)
    stick = stick_with(tmp_path, "broken.xml", text)
    dialog = open_import(qtbot, orch, stick)
    pick(dialog, "broken.xml")
    dialog.preview_button.click()
    qtbot.waitUntil(lambda: dialog.steps.currentIndex() == 1, timeout=10_000)
    shown = dialog.preview_text.text()
    assert "importing it would write nothing" in shown
    assert "✖ moorings-test-kura: Image Download Retries" in shown
    assert not dialog.import_button.isEnabled()
    assert not orch.repository.has_instance(NAME)


def test_a_file_that_is_not_a_configuration_says_so_at_the_chooser(
        qtbot: QtBot, tmp_path: Path, core: tuple[Orchestrator, Recorder]) -> None:
    orch, _rec = core
    stick = stick_with(tmp_path, "notes.json", "this is not json")
    dialog = open_import(qtbot, orch, stick)
    pick(dialog, "notes.json")
    dialog.preview_button.click()
    qtbot.waitUntil(lambda: dialog.steps.currentIndex() == 1
                    or dialog.chooser.problem.isVisible(), timeout=10_000)
    assert dialog.steps.currentIndex() == 1
    assert "importing it would write nothing" in dialog.preview_text.text()
    assert not dialog.import_button.isEnabled()


def test_the_service_settings_are_left_alone_unless_ticked(
        qtbot: QtBot, tmp_path: Path, core: tuple[Orchestrator, Recorder]) -> None:
    orch, _rec = core
    doc = json.loads((KURA / "snapshot-webui.json").read_text(encoding="utf-8"))
    web = doc["configs"][2]
    web["pid"] = web["properties"]["kura.service.pid"]["value"] = "moorings-test-web"
    web["properties"]["container.enabled"]["value"] = False
    # Another gateway's engine: importing it would point this one elsewhere.
    doc["configs"][1]["properties"]["container.engine.host"]["value"] = \
        "unix:///run/gateway-7/docker.sock"
    stick = stick_with(tmp_path, "gateway-7.json", json.dumps(doc))
    dialog = open_import(qtbot, orch, stick)
    pick(dialog, "gateway-7.json")
    dialog.preview_button.click()
    qtbot.waitUntil(lambda: dialog.steps.currentIndex() == 1, timeout=10_000)
    assert dialog.with_service.isVisible()
    assert not dialog.with_service.isChecked()
    assert "container.engine.host" in dialog.with_service.text()
    assert "service settings" not in dialog.preview_text.text()
    dialog.with_service.setChecked(True)
    qtbot.waitUntil(lambda: "Would change the service settings" in
                    dialog.preview_text.text(), timeout=10_000)
    dialog.with_service.setChecked(False)
    qtbot.waitUntil(lambda: "Would change the service settings" not in
                    dialog.preview_text.text() and dialog.import_button.isEnabled(),
                    timeout=10_000)
    before = orch.repository.service_values()
    dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.steps.currentIndex() == 2, timeout=30_000)
    assert orch.repository.has_instance("moorings-test-web")
    assert orch.repository.service_values() == before


def test_an_export_lands_in_the_chosen_folder_named_for_the_gateway(
        qtbot: QtBot, tmp_path: Path, test_env: TestEnv,
        core: tuple[Orchestrator, Recorder]) -> None:
    orch, _rec = core
    orch.create_instance("moorings-test-exported", {
        "container.image": test_env.image_repo, "registry.password": "s3cret-pw"}).result(30)
    out = tmp_path / "STICK"
    out.mkdir()
    ops = Operations(CoreBridge(orch))
    dialog = ExportDialog(orch.transfers, ops, touch=False)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.chooser.open_folder(out)
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled(), timeout=10_000)
    dialog.format_buttons[ExportFormat.KURA_XML].setChecked(True)
    target = dialog.path()
    assert target is not None
    assert target.parent == out
    assert re.fullmatch(r"moorings-.+-\d{8}-\d{6}-kura\.xml", target.name)
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.written is not None, timeout=10_000)
    text = target.read_text(encoding="utf-8")
    assert "moorings-test-exported" in text
    assert "s3cret-pw" not in text
    assert "without passwords" in dialog.result_line.text()

    dialog.include_secrets.setChecked(True)
    assert dialog.secrets_warning.isVisible()
    dialog.format_buttons[ExportFormat.MOORINGS_JSON].setChecked(True)
    dialog.written = None
    secret_target = dialog.path()
    assert secret_target is not None
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.written is not None, timeout=10_000)
    assert stat.S_IMODE(secret_target.stat().st_mode) == 0o600
    assert "s3cret-pw" in secret_target.read_text(encoding="utf-8")


def test_default_names_say_whence_and_when() -> None:
    assert default_name(ExportFormat.MOORINGS_JSON, "gw/7 lab", 0).startswith(
        "moorings-gw-7-lab-1970")
    assert default_name(ExportFormat.KURA_JSON, "", 0).endswith("-kura.json")

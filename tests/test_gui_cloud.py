"""The cloud connection in the window, on the real broker: its row in the services tree and
its page with the generated form, the header saying to which broker as which client id; a
wrong password applied from the page shown as a sentence, then put right; a wrong password, a
wrong CA and an unreachable broker each a sentence in the window and the log; and a start and
a stop from a Kapua-shaped console seen in the window and in the engine."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import docker
import pytest
from harness import TestEnv
from kapua_client import KapuaConsole
from mqtt_harness import MqttEnv, free_port
from orchestration import instance_values
from pytestqt.qtbot import QtBot
from remote_helpers import client_id, cloud_values, gateway

from app.core import Core
from app.remote.events import LinkState
from ui.bridge import CoreBridge
from ui.main_window import MainWindow
from ui.services.tree_model import CLOUD_KIND, KIND_ROLE

pytestmark = [pytest.mark.engine, pytest.mark.gui]


@contextmanager
def _window(qtbot: QtBot, core: Core) -> Iterator[MainWindow]:
    bridge = CoreBridge(core.orchestrator, None, core.remote)
    win = MainWindow(bridge)
    win.confirm = lambda title, text, yes: True  # type: ignore[method-assign]
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    try:
        yield win
    finally:
        bridge.detach()


def test_the_cloud_link_is_in_the_tree_the_page_and_the_header(
        qtbot: QtBot, tmp_path: Path, test_env: TestEnv, mqtt_env: MqttEnv) -> None:
    cid = client_id()
    with gateway(tmp_path / "gw", cloud_values(mqtt_env, cid),
                 docker_host=test_env.docker_host) as (core, _events):
        assert core.remote is not None
        with _window(qtbot, core) as win:
            section = win.services
            assert section is not None
            model = section.model
            row = model.cloud_row()
            assert row == 1
            index = model.index(row, 1)
            assert index.data(KIND_ROLE) == CLOUD_KIND
            qtbot.waitUntil(lambda: model.index(row, 1).data() == "connected", timeout=30_000)
            header = win.header.cloud_label
            assert header.isVisible()
            assert f"connected to {mqtt_env.plain_url} as {cid}" in header.full_text()

            section.tree.setCurrentIndex(model.index(row, 0))
            page = section.cloud_page
            assert page is not None
            assert section.pages.currentWidget() is page
            qtbot.waitUntil(lambda: page.badge.text() == "connected", timeout=5_000)
            # Plain mqtt:// with a password: the form says what crosses the network.
            assert page.security_warning.isVisible()

            page.form.field_editor("password").set_value("wrong-pw")
            page.form.changed.emit()
            page.form.validate()
            page._refresh_buttons()
            page.apply_button.click()
            # The link tries again every second (connecting, then not connected): wait for a
            # moment the tree and the page both say why.
            qtbot.waitUntil(lambda: model.index(row, 1).data() == "not connected"
                            and "not authorised" in page.status_line.text(), timeout=30_000)
            assert "wrong-pw" not in page.status_line.text()
            assert "wrong-pw" not in header.full_text()

            page.form.field_editor("password").set_value(mqtt_env.device_password)
            page.form.changed.emit()
            page.form.validate()
            page._refresh_buttons()
            page.apply_button.click()
            qtbot.waitUntil(lambda: model.index(row, 1).data() == "connected", timeout=30_000)


# Each: the cloud values that go wrong, and what the sentence must say.
REFUSALS: dict[str, tuple[Callable[[MqttEnv], dict[str, object]], Callable[[MqttEnv], str]]] = {
    "wrong password": (
        lambda env: cloud_values(env, client_id(), password="Zq9-not-it"),
        lambda env: f"refused {env.device_user} (not authorised): the user name or password "
                    "is wrong"),
    "wrong CA": (
        lambda env: cloud_values(env, client_id(), tls=True,
                                 **{"tls.ca.cert": str(env.other_ca)}),
        lambda env: f"not signed by the CA in TLS CA Certificate ({env.other_ca})"),
    "unreachable broker": (
        lambda env: cloud_values(env, client_id(), url=f"mqtt://127.0.0.1:{free_port()}"),
        lambda env: "nothing accepts connections at mqtt://127.0.0.1:"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_refusal_is_a_sentence_in_the_tree_the_header_the_page_and_the_log(
        case: str, qtbot: QtBot, tmp_path: Path, test_env: TestEnv, mqtt_env: MqttEnv,
        caplog: pytest.LogCaptureFixture) -> None:
    values_of, expected_of = REFUSALS[case]
    values = values_of(mqtt_env)
    with caplog.at_level(logging.WARNING, logger="app.remote"), \
            gateway(tmp_path / "gw", values, docker_host=test_env.docker_host) as (core,
                                                                                  events), \
            _window(qtbot, core) as win:
        reason = events.wait(lambda e: e.state is LinkState.WAITING).reason
        assert expected_of(mqtt_env) in reason
        section = win.services
        assert section is not None
        model = section.model
        row = model.cloud_row()
        section.tree.setCurrentIndex(model.index(row, 0))
        page = section.cloud_page
        assert page is not None
        header = win.header.cloud_label
        # The link tries again every second (connecting, then not connected): wait for a
        # moment every place says why at once.
        qtbot.waitUntil(lambda: model.index(row, 1).data() == "not connected"
                        and page.badge.text() == "not connected"
                        and reason in page.status_line.text()
                        and header.isVisible() and reason in header.full_text(),
                        timeout=30_000)
        assert reason in caplog.text
        # The password of the broker is never part of what is shown or logged.
        password = str(values["password"])
        for text in (header.full_text(), header.toolTip(), page.status_line.text(),
                     caplog.text):
            assert password not in text


def test_a_stop_and_a_start_from_the_console_are_seen_in_the_window_and_the_engine(
        qtbot: QtBot, gw: tuple[Core, str], console: KapuaConsole, test_env: TestEnv,
        docker_client: docker.DockerClient, cleanup: None) -> None:
    core, cid = gw
    name = "moorings-test-gui-inv"
    with _window(qtbot, core) as win:
        section = win.services
        assert section is not None
        model = section.model
        core.orchestrator.create_instance(name, instance_values(test_env)).result(120)
        qtbot.waitUntil(lambda: model.row_of(name) >= 0 and
                        model.index(model.row_of(name), 1).data() == "running", timeout=120_000)
        section.tree.setCurrentIndex(model.index(model.row_of(name), 0))
        page = section.instance_page
        assert page is not None
        qtbot.waitUntil(lambda: page.badge.text() == "running", timeout=10_000)

        body = json.dumps({"name": name, "version": test_env.image, "type": "DOCKER"})
        assert console.request(cid, "INVENTORY-V1", "EXEC", "containers/_stop", body).code == 200
        qtbot.waitUntil(lambda: model.index(model.row_of(name), 1).data() == "stopped",
                        timeout=60_000)
        qtbot.waitUntil(lambda: page.badge.text() == "stopped", timeout=10_000)
        assert docker_client.containers.get(name).attrs["State"]["Running"] is False

        assert console.request(cid, "INVENTORY-V1", "EXEC", "containers/_start",
                               body).code == 200
        qtbot.waitUntil(lambda: model.index(model.row_of(name), 1).data() == "running",
                        timeout=60_000)
        qtbot.waitUntil(lambda: page.badge.text() == "running", timeout=10_000)
        assert docker_client.containers.get(name).attrs["State"]["Running"] is True

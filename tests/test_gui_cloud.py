"""The cloud connection in the window, on the real broker: its row in the services tree and
its page with the generated form, the header saying to which broker as which client id, and a
wrong password applied from the page shown as a sentence, then put right."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import TestEnv
from mqtt_harness import MqttEnv
from pytestqt.qtbot import QtBot
from remote_helpers import client_id, cloud_values, gateway

from ui.bridge import CoreBridge
from ui.main_window import MainWindow
from ui.services.tree_model import CLOUD_KIND, KIND_ROLE

pytestmark = [pytest.mark.engine, pytest.mark.gui]


def test_the_cloud_link_is_in_the_tree_the_page_and_the_header(
        qtbot: QtBot, tmp_path: Path, test_env: TestEnv, mqtt_env: MqttEnv) -> None:
    cid = client_id()
    with gateway(tmp_path / "gw", cloud_values(mqtt_env, cid),
                 docker_host=test_env.docker_host) as (core, _events):
        assert core.remote is not None
        bridge = CoreBridge(core.orchestrator, None, core.remote)
        win = MainWindow(bridge)
        win.confirm = lambda title, text, yes: True  # type: ignore[method-assign]
        qtbot.addWidget(win)
        win.resize(1280, 800)
        win.show()
        try:
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
            qtbot.waitUntil(lambda: model.index(row, 1).data() == "not connected",
                            timeout=30_000)
            assert "not authorised" in page.status_line.text() or \
                "password" in page.status_line.text()
            assert "wrong-pw" not in page.status_line.text()
            assert "wrong-pw" not in header.full_text()

            page.form.field_editor("password").set_value(mqtt_env.device_password)
            page.form.changed.emit()
            page.form.validate()
            page._refresh_buttons()
            page.apply_button.click()
            qtbot.waitUntil(lambda: model.index(row, 1).data() == "connected", timeout=30_000)
        finally:
            bridge.detach()

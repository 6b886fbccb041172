"""Render the main screens on a real X display (Xvfb) into docs/screenshots/.

Run through ``make screenshots`` (which starts Xvfb at 800x480 and at 1280x800). It uses the
test engine and registry when they are up (``make test-env``), so the states are live.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from app.config.repository import ConfigRepository  # noqa: E402
from app.config.store import ConfigStore  # noqa: E402
from app.core import build_core  # noqa: E402
from app.metatype import load_catalog  # noqa: E402
from app.orchestrator.state import Phase  # noqa: E402
from ui.application import load_style  # noqa: E402
from ui.bridge import CoreBridge  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from ui.window_placement import (  # noqa: E402
    WindowPlacement,
    keep_focus_without_window_manager,
)


def pump(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def wait_until(app: QApplication, pred: Callable[[], bool], timeout: float = 30) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if pred():
            return True
        time.sleep(0.02)
    return False


def sample_config(folder: Path) -> ConfigRepository:
    from harness import TestEnv, TestEnvMissing

    repo = ConfigRepository(ConfigStore(folder), load_catalog())
    try:
        env = TestEnv.from_environ()
        host, image, tag = env.docker_host, env.image_repo, env.image_tag
        registry, user, password = env.registry, env.registry_user, env.registry_password
    except TestEnvMissing:
        host, image, tag = "unix:///var/run/docker.sock", "nginx", "1.25"
        registry, user, password = "127.0.0.1:5000", "tech", "secret"
    repo.update_service({"container.engine.host": host})
    sleeper = "sh,-c,trap 'exit 0' TERM; sleep 3600 & wait"
    repo.create_instance("moorings-test-shot-web", values={
        "container.enabled": True, "container.image": image, "container.image.tag": tag,
        "container.ports.internal": "80:tcp", "container.ports.external": "127.0.0.1:18080",
        "container.entrypoint": sleeper, "container.env": "MODE=demo, GREETING=hello\\, world",
        "container.memory": "64m"})
    repo.create_instance("moorings-test-shot-sensor", values={
        "container.enabled": True, "container.image": f"{registry}/{image}",
        "container.image.tag": "2.0-missing", "registry.hostname": registry,
        "registry.username": user, "registry.password": "wrong-" + password,
        "container.ports.internal": "", "container.ports.external": "",
        "container.image.download.retries": 2, "container.image.download.interval": 1000})
    repo.create_instance("moorings-test-shot-idle", values={
        "container.enabled": False, "container.image": image, "container.image.tag": tag,
        "container.ports.internal": "", "container.ports.external": ""})
    return repo


def start_by_hand() -> str:
    """A container started with the docker CLI, as a person would: the inventory shows it."""
    try:
        from harness import TestEnv

        env = TestEnv.from_environ()
    except Exception:  # noqa: BLE001 - no test engine: no such container in the pictures
        return ""
    name = "moorings-test-shot-by-hand"
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False,
                   env={**os.environ, "DOCKER_HOST": env.docker_host})
    r = subprocess.run(["docker", "run", "-d", "--init", "--name", name, "-p",
                        "127.0.0.1:18081:80", env.image, "sleep", "3600"],
                       capture_output=True, check=False,
                       env={**os.environ, "DOCKER_HOST": env.docker_host})
    return name if r.returncode == 0 else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    app.setStyleSheet(load_style())
    area = app.primaryScreen().geometry()
    size = f"{area.width()}x{area.height()}"

    with tempfile.TemporaryDirectory() as tmp:
        sample_config(Path(tmp))
        core = build_core(Path(tmp), claim=False, inventory=True)
        orch = core.orchestrator
        bridge = CoreBridge(orch, core.inventory, core.remote)
        # As `moorings` starts: the window first, the core attached once it is loaded.
        window = MainWindow()
        # As `moorings --fullscreen` shows it (it fills the screen with no window manager).
        keep_focus_without_window_manager(app)
        WindowPlacement(window, fullscreen=True).show()

        def shot(name: str, widget: QWidget | None = None) -> None:
            pump(app, 0.3)
            target = out / f"{size}-{name}.png"
            pixmap = (widget.grab() if widget is not None
                      else app.primaryScreen().grabWindow(0))
            pixmap.save(str(target))
            print(target)

        shot("00-starting")
        window.attach(bridge)
        core.start()
        by_hand = start_by_hand()

        wait_until(app, lambda: orch.connection().connected, 15)
        wait_until(app, lambda: (orch.status("moorings-test-shot-web") or
                                 orch.status("moorings-test-shot-idle")) is not None
                   and getattr(orch.status("moorings-test-shot-web"), "phase", None)
                   is Phase.RUNNING, 30)
        # It gives up after its two attempts: the page then offers Retry.
        wait_until(app, lambda: getattr(orch.status("moorings-test-shot-sensor"), "phase",
                                        None) is Phase.FAILED, 60)
        window.select_service()
        shot("1-services")
        if window.touch_layout:
            window.show_tree()
            shot("0-tree")
        window.select_instance("moorings-test-shot-web")
        shot("2-instance")
        page = window.instance_page
        if page is not None:
            page.form.editor("container.ports.internal").setFocus()
            editor = page.form.field_editor("container.ports.internal")
            editor.set_value("80-90x, 53:udp")
            pump(app, 0.5)
            page.form.validate()
            page.form.scroll_area().ensureWidgetVisible(page.form.editor(
                "container.ports.internal"))
            shot("3-invalid-field")
            page.form.reset()
        window.select_instance("moorings-test-shot-sensor")
        shot("4-failed")
        window.select_instance("moorings-test-shot-web")
        if window.instance_page is not None:
            window.instance_page.history_button.setChecked(True)
            shot("6-history")
            window.instance_page.history_button.setChecked(False)
            # While a person's Stop waits for the container to end (shown as the window
            # shows it between the tap and the engine's answer).
            flows = window.services.flows if window.services is not None else None
            running = orch.status("moorings-test-shot-web")
            if flows is not None and running is not None:
                flows._stopping["moorings-test-shot-web"] = time.time()
                flows.on_state(running)
                shot("11-stopping")
                flows._stopping.clear()
                flows.on_state(running)
        window.show_section("containers")
        pump(app, 1.0)
        shot("7-containers")
        page = window.containers_page
        table = page.findChild(QWidget, "containers-table") if page is not None else None
        if table is not None:
            model = table.model()  # type: ignore[attr-defined]
            for row in range(model.rowCount()):
                if "moorings-test-shot-web" in str(model.index(row, 0).data()):
                    table.selectRow(row)  # type: ignore[attr-defined]
            shot("8-container-details")
        window.show_section("images")
        shot("9-images")
        window.show_section("services")
        window.select_service()
        service = window.service_page
        if service is not None:
            # An engineer typing a plain tcp:// address: the form says what that means.
            host = service.form.editor("container.engine.host")
            host.setFocus()
            host.selectAll()
            QTest.keyClicks(host, "tcp://gateway-17.example.net:2375")
            shot("12-unsafe-engine")
            service.form.reset()
        if window.services is not None and window.services.cloud_page is not None:
            # The cloud connection's page, a plain mqtt:// broker with a password typed in.
            section = window.services
            section.tree.setCurrentIndex(section.model.index(section.model.cloud_row(), 0))
            cloud = section.cloud_page
            assert cloud is not None
            cloud.form.field_editor("broker-url").set_value("mqtt://broker.example.net:1883")
            cloud.form.field_editor("password").set_value("s3cret")
            cloud.form.changed.emit()
            shot("17-cloud")
            cloud.form.reset()
            window.select_service()
        # The header while connected to such an engine. The test engine is local, so the
        # header is shown a stand-in connection to a plain tcp:// engine, for the picture.
        from app.engine.hosts import EngineTarget
        from app.orchestrator.events import ConnectionChanged

        real_target, real_connection = orch.target, orch.connection()
        plain = EngineTarget(url="tcp://gateway-17.example.net:2375")
        orch.target = lambda: plain  # type: ignore[method-assign]
        window._on_connection(ConnectionChanged(True, plain.url, api_version="1.41"))
        shot("13-unsafe-header")
        orch.target = real_target  # type: ignore[method-assign]
        window._on_connection(real_connection)
        QTimer.singleShot(0, window.open_factory_dialog)
        pump(app, 0.5)
        dialog = window.factory_dialog
        if dialog is not None:
            dialog.name.setText("bad name!")
            shot("5-factory-dialog")
            dialog.reject()
        if window.services is not None:
            # Import… from a USB stick: a Kura snapshot from another gateway, previewed.
            stick = Path(tempfile.mkdtemp(prefix="moorings-shot-stick-"))
            (stick / "photos").mkdir()
            kura = ROOT / "tests" / "data" / "kura"
            (stick / "gateway-7_snapshot.json").write_text(
                (kura / "snapshot-webui.json").read_text(encoding="utf-8").replace(
                    "unix:///var/run/docker.sock", "unix:///run/gateway-7/docker.sock"),
                encoding="utf-8")
            (stick / "seed.xml").write_text((kura / "seed-handwritten.xml").read_text(
                encoding="utf-8"), encoding="utf-8")
            flows = window.services.flows
            importing = flows.open_import_dialog()
            importing.chooser.open_folder(stick)
            wait_until(app, lambda: importing.chooser.list.count() == 3, 10)
            shot("14-import-choose")
            importing.chooser.list.setCurrentRow(1)
            importing.preview_button.click()
            wait_until(app, lambda: importing.steps.currentIndex() == 1, 10)
            shot("15-import-preview")
            importing.reject()
            exporting = flows.open_export_dialog()
            exporting.chooser.open_folder(stick)
            wait_until(app, lambda: exporting.export_button.isEnabled(), 10)
            exporting.include_secrets.setChecked(True)
            shot("16-export")
            exporting.reject()
        for name in ("moorings-test-shot-web", "moorings-test-shot-sensor",
                     "moorings-test-shot-idle"):
            orch.delete_instance(name).result(60)
        core.stop()
        bridge.detach()
        if by_hand:
            subprocess.run(["docker", "rm", "-f", by_hand], capture_output=True, check=False)
    # Qt's own teardown at interpreter exit can crash PySide6 (a known refcount issue);
    # everything is saved by now, so leave at once.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    sys.exit(main())

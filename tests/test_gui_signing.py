"""Signature refusals in the window, on the real engine and the authenticated test registry:
an image without a signature, and one signed by another key, each fail with their sentence on
the tree's badge, the instance page and its history, and start nothing; the right key runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from cosign_signing import Signer
from harness import TestEnv
from orchestration import SLEEPER, registry_values, running
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from signed_images import Images, images_fixture

from app.orchestrator.service import Orchestrator
from ui.bridge import CoreBridge
from ui.main_window import MainWindow
from ui.services.section import ServicesSection

pytestmark = [pytest.mark.engine, pytest.mark.gui]


@pytest.fixture
def images(test_env: TestEnv, docker_client: docker.DockerClient) -> Iterator[Images]:
    yield from images_fixture(test_env, docker_client)


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, test_env: TestEnv,
           cleanup: None) -> Iterator[tuple[MainWindow, Orchestrator]]:
    with running(tmp_path / "cfg", test_env) as (orch, _rec):
        bridge = CoreBridge(orch)
        win = MainWindow(bridge)
        qtbot.addWidget(win)
        win.resize(1280, 800)
        win.show()
        try:
            yield win, orch
        finally:
            bridge.detach()


def _signed(env: TestEnv, images: Images, tag: str, anchor: str) -> dict[str, Any]:
    return registry_values(env, tag, **{
        "container.image": images.repo, "container.signature.trust.anchor": anchor,
        "container.signature.verify.transparency.log": False,
        "container.image.download.retries": 1, "container.entrypoint": SLEEPER})


def _badge(section: ServicesSection, name: str) -> str:
    model = section.model
    row = model.row_of(name)
    return str(model.index(row, 1).data()) if row >= 0 else ""


def _shows_refusal(qtbot: QtBot, win: MainWindow, name: str, words: str) -> None:
    section = win.services
    assert section is not None
    qtbot.waitUntil(lambda: _badge(section, name) == "failed", timeout=120_000)
    section.tree.setCurrentIndex(section.model.index(section.model.row_of(name), 0))
    page = section.instance_page
    assert page is not None
    qtbot.waitUntil(lambda: page.badge.text() == "failed", timeout=10_000)
    assert words in page.status_line.text()
    page.history_button.setChecked(True)
    qtbot.waitUntil(lambda: any(words in t for t in page.timeline.row_texts()),
                    timeout=10_000)
    # The tree's tooltip says why too, for a finger that only rests on the row.
    tip = section.model.index(section.model.row_of(name), 1).data(Qt.ItemDataRole.ToolTipRole)
    assert words in str(tip)


def test_an_unsigned_image_is_refused_on_the_badge_the_page_and_the_history(
        qtbot: QtBot, window: tuple[MainWindow, Orchestrator], test_env: TestEnv,
        images: Images, docker_client: docker.DockerClient) -> None:
    win, orch = window
    tag, digest = images.new_tag()
    name = "moorings-test-gui-unsigned"
    orch.create_instance(name, _signed(test_env, images, tag, Signer.ecdsa().public_pem()))
    _shows_refusal(qtbot, win, name, f"no signature for {images.repo}:{tag} ({digest})")
    assert docker_client.containers.list(all=True, filters={"name": f"^/{name}$"}) == []


def test_another_key_is_refused_in_the_window_and_the_right_key_runs(
        qtbot: QtBot, window: tuple[MainWindow, Orchestrator], test_env: TestEnv,
        images: Images, docker_client: docker.DockerClient) -> None:
    win, orch = window
    signer = Signer.ecdsa()
    tag, digest = images.new_signed_tag(signer)
    name = "moorings-test-gui-wrong-key"
    orch.create_instance(name, _signed(test_env, images, tag, Signer.ecdsa().public_pem()))
    _shows_refusal(qtbot, win, name, "does not match the trust anchor")
    assert docker_client.containers.list(all=True, filters={"name": f"^/{name}$"}) == []

    right = "moorings-test-gui-right-key"
    orch.create_instance(right, _signed(test_env, images, tag, signer.public_pem()))
    section = win.services
    assert section is not None
    qtbot.waitUntil(lambda: _badge(section, right) == "running", timeout=120_000)
    # The verified image runs by its digest.
    image = docker_client.containers.get(right).attrs["Config"]["Image"]
    assert image == f"{images.repo}@{digest}"

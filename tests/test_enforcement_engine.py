"""Allowlist enforcement on the real engine: a hand-started container of a disallowed image is
stopped (not removed) with its reason, allowed ones are left running, a container named like an
allowed image is not mistaken for it, managed containers of disallowed images are never created
(by an instance or through the plugin API), and when enforcement cannot check it says so and
creates nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
from cosign_signing import Signer
from harness import TEST_LABELS, TEST_PREFIX, TestEnv
from orchestration import SLEEPER, Recorder, instance_values, registry_values, running
from signed_images import Images, images_fixture

from app.api import ContainerConfiguration, ContainerOrchestrationService, ImageConfiguration
from app.config.repository import ConfigRepository
from app.config.store import ConfigStore, StoredConfig
from app.core import build_core
from app.inventory.feed import Inventory
from app.metatype import load_catalog
from app.orchestrator.enforcement import EnforcementRefused
from app.orchestrator.events import ContainerBlocked, EnforcementChanged
from app.orchestrator.state import Phase

pytestmark = pytest.mark.engine
ENTRY = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


@pytest.fixture
def images(test_env: TestEnv, docker_client: docker.DockerClient) -> Iterator[Images]:
    yield from images_fixture(test_env, docker_client)


def others(client: docker.DockerClient) -> list[str]:
    """The image ids of every running container the tests did not make: always allowed here,
    so that a test never stops someone else's container on this shared engine."""
    return sorted({str(c.attrs.get("Image")) for c in client.containers.list()
                   if not c.name.startswith(TEST_PREFIX)})


def hand_start(client: docker.DockerClient, image: str, name: str) -> str:
    container = client.containers.run(image, name=name, entrypoint=ENTRY, detach=True,
                                      labels=TEST_LABELS)
    return str(container.id)


def running_state(client: docker.DockerClient, cid: str) -> bool:
    return bool(client.api.inspect_container(cid)["State"]["Running"])


def wait_stopped(client: docker.DockerClient, cid: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running_state(client, cid):
            return
        time.sleep(0.1)
    raise AssertionError(f"{cid[:12]} is still running")


def allowlist(*digests: str) -> str:
    return "\n".join(digests)


def test_hand_started_disallowed_containers_are_stopped_not_removed(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient, images: Images,
        cleanup: None) -> None:
    allowed_id = str(docker_client.images.get(test_env.image).id)
    bad_image = images.build()
    # An allowed image tagged with the name of the container that runs a disallowed one: Kura
    # looked digests up by the container's name and would let this one run.
    docker_client.images.get(test_env.image).tag("moorings-test-lookalike", "latest")
    images.made.append("moorings-test-lookalike:latest")
    good = hand_start(docker_client, test_env.image, "moorings-test-enf-good")
    bad = hand_start(docker_client, bad_image, "moorings-test-enf-bad")
    lookalike = hand_start(docker_client, bad_image, "moorings-test-lookalike")
    allowed = allowlist(allowed_id, *others(docker_client))
    with running(tmp_path / "cfg", test_env) as (orch, rec):
        inventory = Inventory(orch)
        inventory.start()
        # Before it is switched on: what it would stop, for the window to confirm.
        preview = orch.enforcement_preview(allowed).result(60)
        assert {o.name for o in preview} == {"moorings-test-enf-bad", "moorings-test-lookalike"}
        assert all("is not in the allowlist" in o.reason for o in preview)
        assert running_state(docker_client, bad)  # a preview stops nothing

        orch.update_service({"enforcement.enabled": True,
                             "enforcement.allowlist": allowed}).result(60)
        wait_stopped(docker_client, bad)
        wait_stopped(docker_client, lookalike)
        assert running_state(docker_client, good)
        # Stopped, not removed: a person's data may be in it.
        assert docker_client.api.inspect_container(bad)["State"]["Status"] == "exited"
        entries = orch.history("moorings-test-enf-bad")
        assert [e.kind for e in entries] == ["enforcement"]
        assert f"its image {bad_image}" in entries[0].message
        blocked = [e for e in rec.events if isinstance(e, ContainerBlocked)]
        assert {e.name for e in blocked} == {"moorings-test-enf-bad", "moorings-test-lookalike"}
        status = orch.enforcement()
        assert status.enabled
        assert status.checking
        assert set(status.stopped) == {"moorings-test-enf-bad", "moorings-test-lookalike"}
        # The inventory's row says why (the window shows it on the Containers page).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not getattr(inventory.row(bad), "blocked", ""):
            time.sleep(0.05)
        row = inventory.row(bad)
        assert row is not None
        assert "is not in the allowlist" in row.blocked
        assert inventory.row(good) is not None
        assert inventory.row(good).blocked == ""  # type: ignore[union-attr]

        # Started again by hand: its start event has it stopped again.
        docker_client.api.start(bad)
        time.sleep(0.2)
        wait_stopped(docker_client, bad)
        assert len(orch.history("moorings-test-enf-bad")) == 2
        assert running_state(docker_client, good)
        inventory.stop()


def test_managed_containers_of_disallowed_images_are_never_created(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient, images: Images,
        cleanup: None) -> None:
    signer = Signer.ecdsa()
    tag, _ = images.new_signed_tag(signer)
    with running(tmp_path / "cfg", test_env) as (orch, rec):
        orch.update_service({"enforcement.enabled": True,
                             "enforcement.allowlist": allowlist(*others(docker_client))}
                            ).result(60)
        orch.create_instance("moorings-test-denied", instance_values(
            test_env, **{"container.image.download.retries": 1})).result(60)
        status = rec.wait_status("moorings-test-denied", lambda s: s.phase is Phase.FAILED)
        assert f"enforcement is on and the image {test_env.image}" in status.reason
        assert "is not in the allowlist" in status.reason
        assert docker_client.containers.list(all=True,
                                             filters={"name": "^/moorings-test-denied$"}) == []
        # A signed instance's verified digest is allowed without being in the list.
        orch.create_instance("moorings-test-signed-ok", registry_values(
            test_env, tag, **{"container.image": images.repo,
                              "container.signature.trust.anchor": signer.public_pem(),
                              "container.signature.verify.transparency.log": False,
                              "container.entrypoint": SLEEPER})).result(60)
        rec.wait_phase("moorings-test-signed-ok", Phase.RUNNING)


def test_the_plugin_api_creates_no_container_of_a_disallowed_image(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient,
        cleanup: None) -> None:
    name = "moorings-test-api-denied"
    config = (ContainerConfiguration.builder().set_container_name(name)
              .set_image(ImageConfiguration(test_env.image_repo, test_env.image_tag))
              .set_entrypoint(SLEEPER.split(",", 2)).build())
    with running(tmp_path / "cfg", test_env) as (orch, _rec):
        orch.update_service({"enforcement.enabled": True,
                             "enforcement.allowlist": allowlist(*others(docker_client))}
                            ).result(60)
        svc = ContainerOrchestrationService(orch)
        with pytest.raises(EnforcementRefused) as refused:
            svc.start_container(config).result(120)
        assert f"enforcement is on and the image {test_env.image}" in str(refused.value)
        assert "is not in the allowlist" in str(refused.value)
        assert docker_client.containers.list(all=True, filters={"name": f"^/{name}$"}) == []

        # Allowed by digest: the same request creates and starts it.
        allowed_id = str(docker_client.images.get(test_env.image).id)
        orch.update_service({"enforcement.allowlist": allowlist(
            allowed_id, *others(docker_client))}).result(60)
        cid = svc.start_container(config).result(120)
        assert running_state(docker_client, cid)


def test_enforcement_that_cannot_check_says_so_and_creates_nothing(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient,
        cleanup: None) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    repo = ConfigRepository(ConfigStore(folder), load_catalog())
    repo.update_service({"container.engine.host": test_env.docker_host,
                         "enforcement.enabled": True})

    def hand_edit(data: StoredConfig) -> StoredConfig:
        # A file edited by hand, past validation: an allowlist that cannot be read.
        data.service["enforcement.allowlist"] = "nginx:latest"
        return data
    repo.store.update(hand_edit, frozenset({"registry.password"}))
    orch = build_core(folder, claim=False).orchestrator
    rec = Recorder(orch)
    orch.start()
    try:
        deadline = time.monotonic() + 30
        while orch.enforcement().checking and time.monotonic() < deadline:
            time.sleep(0.05)
        status = orch.enforcement()
        assert status.enabled
        assert not status.checking
        assert "the allowlist cannot be read" in status.reason
        assert any(isinstance(e, EnforcementChanged) and not e.status.checking
                   for e in rec.events)
        orch.create_instance("moorings-test-closed", instance_values(
            test_env, **{"container.image.download.retries": 1})).result(60)
        failed = rec.wait_status("moorings-test-closed", lambda s: s.phase is Phase.FAILED)
        assert "enforcement is on but cannot check" in failed.reason
        assert docker_client.containers.list(all=True,
                                             filters={"name": "^/moorings-test-closed$"}) == []
    finally:
        orch.stop()


def test_a_disallowed_container_found_at_launch_is_stopped(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient, images: Images,
        cleanup: None) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    repo = ConfigRepository(ConfigStore(folder), load_catalog())
    allowed_id = str(docker_client.images.get(test_env.image).id)
    repo.update_service({"container.engine.host": test_env.docker_host,
                         "enforcement.enabled": True,
                         "enforcement.allowlist": ", ".join([allowed_id,
                                                             *others(docker_client)])})
    good = hand_start(docker_client, test_env.image, "moorings-test-launch-good")
    bad = hand_start(docker_client, images.build(), "moorings-test-launch-bad")
    orch = build_core(folder, claim=False).orchestrator
    orch.start()
    try:
        wait_stopped(docker_client, bad)
        assert running_state(docker_client, good)
        assert orch.enforcement().checking
    finally:
        orch.stop()

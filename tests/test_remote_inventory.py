"""INVENTORY-V1 over the real broker, on the real engine, driven as Kapua drives it."""

from __future__ import annotations

import json

import docker
import pytest
from harness import TestEnv
from kapua_client import KapuaConsole
from orchestration import Recorder, instance_values

from app.core import Core
from app.orchestrator.state import Phase

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]
APP = "INVENTORY-V1"




def _by_name(reply_json: dict[str, list[dict[str, str]]], key: str,
             name: str) -> dict[str, str] | None:
    return next((c for c in reply_json[key] if c["name"] == name), None)


def test_containers_start_and_stop_as_kapua_does(
        gw: tuple[Core, str], console: KapuaConsole, test_env: TestEnv,
        docker_client: docker.DockerClient) -> None:
    core, cid = gw
    orch = core.orchestrator
    rec = Recorder(orch)
    name = "moorings-test-inv"
    orch.create_instance(name, instance_values(test_env)).result(120)
    rec.wait_phase(name, Phase.RUNNING)

    reply = console.request(cid, APP, "GET", "containers")
    assert reply.code == 200
    entry = _by_name(reply.json(), "containers", name)
    assert entry == {"name": name, "version": test_env.image, "type": "DOCKER",
                     "state": "active"}

    # Kura's quirks: version is required, and an unknown container is 400.
    only_name = json.dumps({"name": name})
    assert console.request(cid, APP, "EXEC", "containers/_stop", only_name).code == 400
    missing = json.dumps({"name": "moorings-test-none", "version": "x:1"})
    reply = console.request(cid, APP, "EXEC", "containers/_stop", missing)
    assert reply.code == 400
    assert "no container named moorings-test-none" in reply.metrics[
        "response.exception.message"]

    body = json.dumps({"name": name, "version": test_env.image, "type": "DOCKER"})
    assert console.request(cid, APP, "EXEC", "containers/_stop", body).code == 200
    rec.wait_phase(name, Phase.STOPPED_BY_PERSON)
    assert docker_client.containers.get(name).attrs["State"]["Running"] is False
    entry = _by_name(console.request(cid, APP, "GET", "containers").json(), "containers", name)
    assert entry is not None
    assert entry["state"] == "uninstalled"
    # A person's stop: kept by the orchestrator (a pass does not start it again).
    orch.reconcile().result(60)
    assert docker_client.containers.get(name).attrs["State"]["Running"] is False

    assert console.request(cid, APP, "EXEC", "containers/_start", body).code == 200
    rec.wait_phase(name, Phase.RUNNING)
    assert docker_client.containers.get(name).attrs["State"]["Running"] is True


def test_images_inventory_and_delete(gw: tuple[Core, str], console: KapuaConsole,
                                     test_env: TestEnv,
                                     docker_client: docker.DockerClient) -> None:
    _, cid = gw
    images = console.request(cid, APP, "GET", "images")
    assert images.code == 200
    assert {"name": test_env.image_repo, "version": test_env.image_tag,
            "type": "CONTAINER_IMAGE"} in images.json()["images"]
    inventory = console.request(cid, APP, "GET", "inventory").json()["inventory"]
    names = [e["name"] for e in inventory]
    assert names == sorted(names)
    assert set(inventory[0]) == {"name", "version", "type"}

    docker_client.images.get(test_env.image).tag("moorings-test/inv-delete", "7")
    body = json.dumps({"name": "moorings-test/inv-delete", "version": "7"})
    assert console.request(cid, APP, "EXEC", "images/_delete", body).code == 200
    assert "moorings-test/inv-delete:7" not in {
        t for img in docker_client.images.list() for t in img.tags}
    assert console.request(cid, APP, "EXEC", "images/_delete", body).code == 400

    assert console.request(cid, APP, "GET", "nothing").code == 404
    assert console.request(cid, APP, "EXEC", "containers/_restart", "{}").code == 404
    assert console.request(cid, APP, "PUT", "containers").code == 500
    assert console.request(cid, APP, "GET", "bundles").json() == {"bundles": []}

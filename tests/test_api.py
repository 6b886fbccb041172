"""The plugin API on the real engine: Kura's service, builder, descriptors and credentials."""

from __future__ import annotations

import contextlib
from pathlib import Path

import docker
import pytest
from harness import TestEnv
from orchestration import SLEEPER, instance_values, registry_values, running

from app.api import (
    ContainerConfiguration,
    ContainerOrchestrationService,
    ContainerPort,
    ContainerState,
    ImageConfiguration,
    PasswordRegistryCredentials,
)
from app.engine.errors import EngineError
from app.engine.pull import PullError
from app.orchestrator.events import ContainerEvent
from app.orchestrator.state import Phase

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]


def _config(env: TestEnv, name: str, **env_vars: str) -> ContainerConfiguration:
    return (ContainerConfiguration.builder()
            .set_container_name(name)
            .set_image(ImageConfiguration(env.image_repo, env.image_tag))
            .set_entrypoint(SLEEPER.split(",", 2))
            .set_env([f"{k}={v}" for k, v in env_vars.items()])
            .set_ports([ContainerPort(80, 18080, "tcp", "127.0.0.1")])
            .set_logger_parameters({"max-size": "1m"})
            .build())


def test_start_list_stop_start_delete(tmp_path: Path, test_env: TestEnv,
                                      docker_client: docker.DockerClient) -> None:
    with running(tmp_path, test_env) as (orch, rec):
        svc = ContainerOrchestrationService(orch)
        events: list[object] = []
        svc.register_listener(events.append)
        cid = svc.start_container(_config(test_env, "moorings-test-api", A="1")).result(60)
        c = docker_client.containers.get(cid)
        assert c.status == "running"
        assert c.attrs["HostConfig"]["PortBindings"]["80/tcp"] == [
            {"HostIp": "127.0.0.1", "HostPort": "18080"}]
        assert "A=1" in c.attrs["Config"]["Env"]
        # Same configuration again: adopted, not recreated.
        assert svc.start_container(_config(test_env, "moorings-test-api", A="1")).result(60) == cid
        # Another configuration: replaced.
        cid2 = svc.start_container(_config(test_env, "moorings-test-api", A="2")).result(60)
        assert cid2 != cid

        descs = {d.id: d for d in svc.list_container_descriptors().result(30)}
        d = descs[cid2]
        assert d.name == "moorings-test-api"
        assert d.framework_managed
        assert d.instance is None
        assert d.state is ContainerState.ACTIVE
        assert d.image == test_env.image_repo
        assert d.tag == test_env.image_tag
        assert d.ports == (ContainerPort(80, 18080, "tcp", "127.0.0.1"),)
        assert cid2 in svc.list_container_ids().result(30)
        assert svc.get_container_id_by_name("moorings-test-api").result(30) == cid2
        assert svc.get_container_id_by_name("moorings-test-nothing").result(30) is None

        svc.stop_container(cid2).result(30)
        assert docker_client.containers.get(cid2).status == "exited"
        svc.start_container_by_id(cid2).result(30)
        assert docker_client.containers.get(cid2).status == "running"
        svc.delete_container(cid2).result(30)
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(cid2)
        assert any(isinstance(e, ContainerEvent) and e.container_id == cid2
                   and e.action == "start" for e in events)
        svc.unregister_listener(events.append)
        # The reconcile loop never removed the API's container as an orphan.
        assert rec.orch.reconcile().result(30) is None


def test_foreign_name_is_left_alone(tmp_path: Path, test_env: TestEnv,
                                    docker_client: docker.DockerClient) -> None:
    foreign = docker_client.containers.run(test_env.image, ["sleep", "3600"],
                                           name="moorings-test-api-foreign", detach=True,
                                           init=True)
    with running(tmp_path, test_env) as (orch, _):
        svc = ContainerOrchestrationService(orch)
        with pytest.raises(EngineError, match="left alone"):
            svc.start_container(_config(test_env, "moorings-test-api-foreign")).result(60)
        foreign.reload()
        assert foreign.status == "running"


def test_instance_container_stop_is_a_person_stop(tmp_path: Path, test_env: TestEnv) -> None:
    name = "moorings-test-api-inst"
    with running(tmp_path, test_env) as (orch, rec):
        orch.create_instance(name, instance_values(test_env)).result(30)
        st = rec.wait_phase(name, Phase.RUNNING)
        svc = ContainerOrchestrationService(orch)
        desc = next(d for d in svc.list_container_descriptors().result(30) if d.name == name)
        assert desc.instance == name
        svc.stop_container(st.container_id or "").result(30)
        rec.wait_phase(name, Phase.STOPPED_BY_PERSON)
        with pytest.raises(EngineError, match="disable or delete the instance"):
            svc.delete_container(st.container_id or "").result(30)


def test_retry_through_the_api_after_giving_up(tmp_path: Path, test_env: TestEnv) -> None:
    name = "moorings-test-api-retry"
    values = registry_values(test_env, tag="no-such-tag", **{
        "container.image.download.retries": 1})
    with running(tmp_path, test_env, periodic_interval_s=0.5) as (orch, rec):
        orch.create_instance(name, values).result(30)
        rec.wait_phase(name, Phase.FAILED)
        svc = ContainerOrchestrationService(orch)
        svc.retry_instance(name).result(30)
        rec.wait_status(name, lambda s: s.phase is Phase.FAILED
                        and [h.kind for h in orch.history(name)].count("pulling") == 2)
        assert [h.kind for h in orch.history(name)].count("retry") == 1


def test_pull_with_password_credentials_and_images(tmp_path: Path, test_env: TestEnv,
                                                   docker_client: docker.DockerClient) -> None:
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(test_env.registry_image, force=True)
    with running(tmp_path, test_env) as (orch, _):
        svc = ContainerOrchestrationService(orch)
        creds = PasswordRegistryCredentials(test_env.registry, test_env.registry_user,
                                            test_env.registry_password)
        assert test_env.registry_password not in repr(creds)
        progress: list[object] = []
        image = ImageConfiguration(test_env.registry_repo, test_env.image_tag, creds, 30)
        svc.pull_image(image, progress.append).result(60)
        assert progress
        images = svc.list_image_descriptors().result(30)
        mine = [i for i in images if i.name == test_env.registry_repo]
        assert mine
        assert mine[0].tag == test_env.image_tag  # a registry port is not taken for a tag
        bad = PasswordRegistryCredentials(test_env.registry, test_env.registry_user, "nope")
        with pytest.raises(PullError) as info:
            svc.pull_image(ImageConfiguration(test_env.registry_repo, "1", bad, 30),
                           always=True).result(60)
        assert info.value.kind == "auth"
        svc.delete_image(test_env.registry_image).result(30)
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(test_env.registry_image)

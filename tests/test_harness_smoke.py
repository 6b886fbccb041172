"""The harness itself: a real engine, and a real registry that checks passwords."""

from __future__ import annotations

import contextlib

import docker
import docker.errors
import pytest
from harness import TestEnv, registry_pull_count, wait_for_pull_count

pytestmark = pytest.mark.engine


def test_engine_answers_with_a_negotiated_api_version(docker_client: docker.DockerClient) -> None:
    assert docker_client.ping() is True
    server = docker_client.version()
    # version="auto": the client speaks the engine's own API version, whatever the SDK's newest
    assert docker_client.api.api_version == server["ApiVersion"]


@pytest.mark.usefixtures("cleanup")
def test_test_image_runs(docker_client: docker.DockerClient, test_env: TestEnv) -> None:
    out = docker_client.containers.run(
        test_env.image,
        ["sh", "-c", "echo hello; printenv PATH"],
        name="moorings-test-smoke",
        labels={"moorings.test": "1"},
        environment={"FOO": "bar"},
    )
    assert out.decode().split() == ["hello", "/bin"]


def _remove_local_copy(client: docker.DockerClient, ref: str) -> None:
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.remove(ref)  # untags; the local test image keeps its own tag


def test_authenticated_pull_from_registry(
    docker_client: docker.DockerClient, test_env: TestEnv
) -> None:
    _remove_local_copy(docker_client, test_env.registry_image)
    before = registry_pull_count(test_env.image_repo)

    docker_client.images.pull(
        test_env.registry_repo, tag=test_env.image_tag, auth_config=test_env.auth_config
    )

    image = docker_client.images.get(test_env.registry_image)
    assert test_env.registry_image in image.tags
    assert wait_for_pull_count(test_env.image_repo, before + 1) == before + 1


def test_pull_with_wrong_password_is_refused_and_logged(
    docker_client: docker.DockerClient, test_env: TestEnv
) -> None:
    before = registry_pull_count(test_env.image_repo)
    wrong = {"username": test_env.registry_user, "password": test_env.registry_password + "x"}

    with pytest.raises(docker.errors.APIError) as refused:
        docker_client.images.pull(test_env.registry_repo, tag=test_env.image_tag, auth_config=wrong)

    explanation = str(refused.value.explanation).lower()
    assert "unauthorized" in explanation or "authentication" in explanation, explanation
    assert wait_for_pull_count(test_env.image_repo, before + 1) == before + 1

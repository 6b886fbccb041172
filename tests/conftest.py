"""Shared fixtures.

Tests marked ``@pytest.mark.engine`` need the real Docker engine and test registry that
``scripts/test-env.sh start`` (``make test-env``) starts; ``make test`` starts them itself.
Without them such tests are skipped locally and fail in CI (CI=true).

Fixtures: ``test_env`` (session, a :class:`harness.TestEnv`), ``docker_client`` (session,
a ``docker.DockerClient`` with the API version negotiated) and ``cleanup`` (removes every
``moorings-test*`` / ``moorings.test=1`` container, network and volume after the test), and
``mqtt_env`` (session, the test MQTT broker: :class:`mqtt_harness.MqttEnv`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import docker
import pytest
from harness import TestEnv, TestEnvMissing, check_env, cleanup_test_objects
from harness import docker_client as make_docker_client
from mqtt_harness import MqttEnv, MqttEnvMissing

pytest_plugins = ["endpoint_fixtures", "remote_fixtures"]
# Qt reads this when the QApplication is created: tests never need a screen.
os.environ["QT_QPA_PLATFORM"] = "offscreen"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def test_env() -> TestEnv:
    """The test engine and registry, checked once per session: skipped when they are not up
    (locally), failed (in CI)."""
    try:
        env = TestEnv.from_environ()
        check_env(env)
    except TestEnvMissing as e:
        if _in_ci():
            pytest.fail(
                f"CI needs the real Docker engine and test registry, but {e}: "
                "scripts/run-tests.sh should have started them (see its output above).",
                pytrace=False,
            )
        pytest.skip(
            f"needs the Docker engine and test registry, but {e}. "
            "Start them with `make test-env` (then run pytest again), or run `make test`."
        )
    return env


@pytest.fixture(autouse=True)
def _engine_marker(request: pytest.FixtureRequest) -> None:
    """Every test marked ``engine`` gets ``test_env``, hence its skip/fail check."""
    if request.node.get_closest_marker("engine") is not None:
        request.getfixturevalue("test_env")


@pytest.fixture(scope="session")
def docker_client(test_env: TestEnv) -> Iterator[docker.DockerClient]:
    client = make_docker_client(test_env)
    yield client
    client.close()


@pytest.fixture
def cleanup(docker_client: docker.DockerClient) -> Iterator[None]:
    """Remove the test's containers (named ``moorings-test*`` or labelled ``moorings.test=1``,
    running or left in Created), networks and volumes when it ends."""
    yield
    cleanup_test_objects(docker_client)


@pytest.fixture(scope="session")
def mqtt_env() -> MqttEnv:
    """The test broker (Mosquitto on loopback, passwords, TLS, Kapua's ACL), checked once per
    session: skipped when it is not up (locally), failed (in CI), as the engine is."""
    try:
        env = MqttEnv.from_environ()
        env.check()
    except MqttEnvMissing as e:
        if _in_ci():
            pytest.fail(f"CI needs the test MQTT broker, but {e}: scripts/run-tests.sh should "
                        "have started it (see its output above).", pytrace=False)
        pytest.skip(f"needs the test MQTT broker, but {e}. Start it with `make test-env`.")
    return env

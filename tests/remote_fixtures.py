"""Fixtures of the remote management tests: a Kapua-shaped console on the test broker, and a
gateway (a core with its cloud link) connected to it on the test engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import TestEnv
from kapua_client import KapuaConsole
from mqtt_harness import MqttEnv
from remote_helpers import client_id, cloud_values, gateway

from app.core import Core
from app.remote.events import LinkState


@pytest.fixture
def console(mqtt_env: MqttEnv) -> Iterator[KapuaConsole]:
    c = KapuaConsole(mqtt_env)
    yield c
    c.close()


@pytest.fixture
def gw(tmp_path: Path, mqtt_env: MqttEnv, test_env: TestEnv) -> Iterator[tuple[Core, str]]:
    """A connected gateway and its client id."""
    cid = client_id()
    with gateway(tmp_path / "gw", cloud_values(mqtt_env, cid),
                 docker_host=test_env.docker_host) as (core, events):
        events.wait(lambda e: e.state is LinkState.CONNECTED)
        yield core, cid

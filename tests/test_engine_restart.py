"""The engine stopped and started again: instances come back with no action from anyone."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest
from harness import TestEnv, start_engine, stop_engine
from orchestration import instance_values, running

from app.orchestrator.events import ConnectionChanged
from app.orchestrator.state import Phase

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]


def test_engine_restart_brings_instances_back(tmp_path: Path, test_env: TestEnv) -> None:
    if not test_env.engine_restartable:
        pytest.skip("this engine was not started by the harness, so the tests may not stop it")
    name = "moorings-test-engine-restart"
    with running(tmp_path, test_env) as (orch, rec):
        orch.create_instance(name, instance_values(test_env)).result(30)
        rec.wait_phase(name, Phase.RUNNING)
        try:
            stop_engine(test_env)
            st = rec.wait_phase(name, Phase.WAITING_FOR_ENGINE, timeout=60)
            assert st.reason
            assert not orch.connection().connected
            assert orch.connection().reason
        finally:
            start_engine()
        st = rec.wait_phase(name, Phase.RUNNING, timeout=120)
        client = docker.DockerClient(base_url=test_env.docker_host, version="auto")
        try:
            assert client.containers.get(name).status == "running"
            assert client.containers.get(name).id == st.container_id
        finally:
            client.close()
        conns = [e for e in rec.events if isinstance(e, ConnectionChanged)]
        assert [c.connected for c in conns][-2:] == [False, True] or \
            (conns[-1].connected and any(not c.connected for c in conns))
        assert "reconnect" in [h.kind for h in orch.history(name)]

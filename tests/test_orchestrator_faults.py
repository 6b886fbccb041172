"""The orchestrator under load and beside other writers, on the real engine: removals side by
side, a person's request never queued behind a batch, a `config import` taken up by the running
Moorings."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from harness import ROOT, TestEnv
from moorings_process import MooringsProcess, import_config
from orchestration import SLEEPER, instance_values, running

from app.orchestrator.events import InstanceAdded, InstanceChanged
from app.orchestrator.lock import claim_folder
from app.orchestrator.state import Phase

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]

# busybox's sleep as PID 1 ignores SIGTERM: each stop takes the engine's full 10 s timeout.
STUBBORN = "sleep,3600"


class EngineEvents:
    """The engine's container events for names with a prefix, in the engine's order."""

    def __init__(self, client: docker.DockerClient, prefix: str) -> None:
        self._stream = client.events(decode=True, filters={"type": "container"})
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self._prefix = prefix
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for raw in self._stream:
            attrs = (raw.get("Actor") or {}).get("Attributes") or {}
            name = attrs.get("name", "")
            if name.startswith(self._prefix):
                self.seen.append((str(raw.get("Action")), name, attrs))

    def index(self, action: str, name: str, **attrs: str) -> int:
        for i, (a, n, at) in enumerate(list(self.seen)):
            if a == action and n == name and all(at.get(k) == v for k, v in attrs.items()):
                return i
        raise AssertionError(f"no {action} event for {name}; saw {self.seen}")

    def close(self) -> None:
        self._stream.close()


@pytest.fixture
def engine_events(docker_client: docker.DockerClient) -> Iterator[EngineEvents]:
    events = EngineEvents(docker_client, "moorings-test-rm")
    yield events
    events.close()


def test_removals_run_side_by_side_and_a_person_does_not_wait_behind_them(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient,
        engine_events: EngineEvents) -> None:
    names = [f"moorings-test-rm-{i}" for i in range(6)]
    person = "moorings-test-rm-person"
    with running(tmp_path, test_env) as (orch, rec):
        for name in names:
            orch.create_instance(name, instance_values(
                test_env, **{"container.entrypoint": STUBBORN})).result(60)
        for name in names:
            rec.wait_phase(name, Phase.RUNNING)
        disabling = [orch.apply(name, {"container.enabled": False}) for name in names]
        # A person's request right behind the batch.
        orch.create_instance(person, instance_values(test_env)).result(60)
        rec.wait_phase(person, Phase.RUNNING)
        for future in disabling:
            future.result(120)
        for name in names:
            rec.wait_phase(name, Phase.DISABLED, timeout=120)
            with pytest.raises(docker.errors.NotFound):
                docker_client.containers.get(name)
        time.sleep(0.5)  # the last events reach the reader
    first_death = min(engine_events.index("die", n) for n in names)
    # Every container was asked to stop (SIGTERM) before any of them ended: side by side.
    for name in names:
        assert engine_events.index("kill", name, signal="15") < first_death, name
    # The person's container started while the batch was still waiting for its processes.
    assert engine_events.index("start", person) < first_death


def _command(client: docker.DockerClient, name: str) -> str:
    try:
        config = client.containers.get(name).attrs["Config"]
    except docker.errors.NotFound:
        return ""
    return " ".join([*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])])


def test_a_config_import_is_taken_up_by_the_running_headless_moorings(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    cfg = tmp_path / "cfg"
    kept, disabled, added = ("moorings-test-imp-kept", "moorings-test-imp-off",
                             "moorings-test-imp-new")
    import_config(cfg, test_env, {kept: instance_values(test_env),
                                  disabled: instance_values(test_env)})
    run = MooringsProcess(cfg, "--headless")
    try:
        run.wait_for(f"{disabled}: running")
        run.wait_for(f"{kept}: running")
        doc = tmp_path / "change.json"
        doc.write_text(json.dumps({"instances": {
            disabled: {"properties": instance_values(test_env, **{"container.enabled": False})},
            added: {"properties": instance_values(test_env)}}}))
        child = subprocess.run([sys.executable, "-m", "app", "--config-dir", str(cfg), "config",
                                "import", str(doc)],
                               capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
        assert child.returncode == 0, child.stderr
        assert f"The running Moorings (process {run.proc.pid}) has taken it up" in child.stderr
        run.wait_for(f"{added}: running", timeout=30)
        run.wait_for(f"{disabled}: disabled", timeout=30)
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(disabled)
        assert docker_client.containers.get(added).status == "running"
        assert docker_client.containers.get(kept).status == "running"
        assert "Traceback" not in run.text()
    finally:
        run.close()


def test_the_window_s_orchestrator_hears_of_an_import_and_keeps_it(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    """The orchestrator the window holds: an import adds and changes instances in it (events for
    the services tree), and its own next save keeps them."""
    cfg = tmp_path / "cfg"
    name, added = "moorings-test-win-a", "moorings-test-win-b"
    lock = claim_folder(cfg)  # as the window does before it loads the core
    with running(cfg, test_env) as (orch, rec):
        orch.create_instance(name, instance_values(test_env)).result(60)
        rec.wait_phase(name, Phase.RUNNING)
        doc = tmp_path / "change.json"
        doc.write_text(json.dumps({"instances": {
            added: {"properties": instance_values(test_env)},
            name: {"properties": instance_values(test_env, **{
                "container.entrypoint": SLEEPER.replace("3600", "3599")})}}}))
        child = subprocess.run([sys.executable, "-m", "app", "--config-dir", str(cfg), "config",
                                "import", str(doc)],
                               capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
        assert child.returncode == 0, child.stderr
        assert "has taken it up" in child.stderr
        rec.wait_phase(added, Phase.RUNNING, timeout=30)
        events: list[Any] = list(rec.events)
        assert InstanceAdded(added) in events
        assert InstanceChanged(name) in events
        # The change recreates the first one with its new entrypoint.
        rec.wait_status(name, lambda s: s.phase is Phase.RUNNING and s.container_id is not None
                        and "3599" in _command(docker_client, name), timeout=30)
        # The window's next save keeps the imported instance.
        orch.apply(name, {"container.env": "AFTER=1"}).result(60)
        assert orch.repository.has_instance(added)
        assert json.loads((cfg / "moorings.json").read_text())["instances"].keys() >= {
            name, added}
    lock.release()


def test_stopping_is_shown_and_an_apply_meanwhile_is_carried_out_after_it(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    name = "moorings-test-rm-stopping"
    with running(tmp_path, test_env, periodic_interval_s=600) as (orch, rec):
        orch.create_instance(name, instance_values(
            test_env, **{"container.entrypoint": STUBBORN})).result(60)
        rec.wait_phase(name, Phase.RUNNING)
        stopping = orch.stop_container(name)
        st = rec.wait_phase(name, Phase.STOPPING, timeout=10)
        assert "stopping" in st.reason
        # The engine waits 10 s for the process; the person changes the configuration now.
        orch.apply(name, {"container.env": "NEW=1"}).result(120)
        stopping.result(60)
        st = rec.wait_status(name, lambda s: s.phase is Phase.RUNNING
                             and "NEW=1" in (docker_client.containers.get(name)
                                             .attrs["Config"]["Env"] or []), timeout=60)
        assert Phase.STOPPED_BY_PERSON in rec.phases(name)

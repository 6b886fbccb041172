"""`moorings --headless`: restore at start, one per folder, clean exit on signals, SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from harness import ROOT, TestEnv
from orchestration import instance_values

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]


def _import(cfg: Path, env: TestEnv, instances: dict[str, dict[str, object]]) -> None:
    doc = {"service": {"container.engine.host": env.docker_host},
           "instances": {n: {"properties": v} for n, v in instances.items()}}
    src = cfg.parent / f"{cfg.name}-import.json"
    src.write_text(json.dumps(doc), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "app", "--config-dir", str(cfg), "config",
                        "import", str(src)], capture_output=True, text=True, timeout=60,
                       check=False, cwd=ROOT)
    assert r.returncode == 0, r.stderr


class Headless:
    def __init__(self, cfg: Path) -> None:
        self.log = cfg.parent / f"{cfg.name}-{time.monotonic_ns()}.log"
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--headless", "--config-dir", str(cfg)],
            stdout=self._out, stderr=subprocess.STDOUT, cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def text(self) -> str:
        return self.log.read_text()

    def wait_for(self, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{needle!r} never appeared; log:\n{self.text()}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._out.close()


@pytest.fixture
def headless_runs(tmp_path: Path) -> Iterator[list[Headless]]:
    runs: list[Headless] = []
    yield runs
    for run in runs:
        run.close()


def test_sigterm_exits_fast_and_leaves_containers_running(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient,
        headless_runs: list[Headless]) -> None:
    cfg = tmp_path / "cfg"
    _import(cfg, test_env, {"moorings-test-hl-a": instance_values(test_env)})
    run = Headless(cfg)
    headless_runs.append(run)
    run.wait_for("moorings-test-hl-a: running")
    assert "connected to" in run.text()

    # A second orchestrator on the same folder refuses and names the holder.
    second = subprocess.run([sys.executable, "-m", "app", "--headless", "--config-dir",
                             str(cfg)], capture_output=True, text=True, timeout=30,
                            check=False, cwd=ROOT)
    assert second.returncode != 0
    assert f"process {run.proc.pid}" in second.stderr

    run.proc.send_signal(signal.SIGTERM)
    assert run.proc.wait(timeout=10) == 0
    assert "containers keep running" in run.text()
    assert docker_client.containers.get("moorings-test-hl-a").status == "running"


def test_restore_after_sigkill(tmp_path: Path, test_env: TestEnv,
                               docker_client: docker.DockerClient,
                               headless_runs: list[Headless]) -> None:
    cfg = tmp_path / "cfg"
    names = ["moorings-test-hl-keep", "moorings-test-hl-gone", "moorings-test-hl-stopped"]
    _import(cfg, test_env, {n: instance_values(test_env) for n in names})
    first = Headless(cfg)
    headless_runs.append(first)
    for n in names:
        first.wait_for(f"{n}: running")
    ids = {n: docker_client.containers.get(n).id for n in names}
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(10)

    docker_client.containers.get("moorings-test-hl-gone").remove(force=True)
    docker_client.containers.get("moorings-test-hl-stopped").stop(timeout=5)

    second = Headless(cfg)
    headless_runs.append(second)
    second.wait_for("moorings-test-hl-gone: running")
    second.wait_for("moorings-test-hl-stopped: running")
    second.wait_for("moorings-test-hl-keep: running")
    for n in names:
        assert docker_client.containers.get(n).status == "running"
    # The untouched and the stopped containers are the same ones, adopted or started again.
    assert docker_client.containers.get("moorings-test-hl-keep").id == ids["moorings-test-hl-keep"]
    assert docker_client.containers.get("moorings-test-hl-stopped").id == \
        ids["moorings-test-hl-stopped"]
    assert docker_client.containers.get("moorings-test-hl-gone").id != ids["moorings-test-hl-gone"]
    assert "adopted" in second.text()
    second.proc.send_signal(signal.SIGINT)
    assert second.proc.wait(timeout=10) == 0

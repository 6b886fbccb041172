"""`moorings` as a person starts it: the window's process restores, refuses a twin, closes."""

from __future__ import annotations

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
from moorings_process import MooringsProcess, import_config
from orchestration import instance_values

from ui.priority import WINDOW_NICE

pytestmark = [pytest.mark.engine, pytest.mark.gui, pytest.mark.usefixtures("cleanup")]

OFFSCREEN = {"QT_QPA_PLATFORM": "offscreen"}


@pytest.fixture
def window_runs() -> Iterator[list[MooringsProcess]]:
    runs: list[MooringsProcess] = []
    yield runs
    for run in runs:
        run.close()


def _nice(pid: int) -> int:
    """The nice value of ``pid``'s main thread, as the kernel reports it."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])


def _wait_running(client: docker.DockerClient, name: str, run: MooringsProcess,
                  timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert run.proc.poll() is None, f"moorings exited early; log:\n{run.text()}"
        try:
            if client.containers.get(name).status == "running":
                return
        except docker.errors.NotFound:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{name} was not restored; log:\n{run.text()}")


def test_the_window_restores_refuses_a_twin_and_closes_leaving_containers_running(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient,
        window_runs: list[MooringsProcess]) -> None:
    cfg = tmp_path / "cfg"
    import_config(cfg, test_env, {"moorings-test-win-a": instance_values(test_env)})
    # The real command: argument parsing, the folder lock, the window, the core behind it.
    run = MooringsProcess(cfg, module="ui.launcher", env=OFFSCREEN)
    window_runs.append(run)
    _wait_running(docker_client, "moorings-test-win-a", run)
    # The window asked for a higher CPU priority for its threads (where this user may).
    nice = _nice(run.proc.pid)
    if os.geteuid() == 0:
        assert nice == WINDOW_NICE, run.text()
        assert f"the window runs at nice {WINDOW_NICE}" in run.text()
    elif nice == 0:
        # Not allowed for this user: the log says so, and how to allow it.
        assert "normal CPU priority" in run.text()
    else:
        assert nice == WINDOW_NICE, run.text()

    # A second window on the same folder refuses before it opens, and names the holder.
    second = subprocess.run([sys.executable, "-m", "ui.launcher", "--config-dir", str(cfg)],
                            capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
                            env={**os.environ, **OFFSCREEN})
    assert second.returncode == 3, second.stderr
    assert f"process {run.proc.pid}" in second.stderr

    # A service manager's SIGTERM closes the window cleanly; the container keeps running.
    run.proc.send_signal(signal.SIGTERM)
    assert run.proc.wait(timeout=30) == 0, run.text()
    assert "window closed; containers keep running" in run.text()
    assert docker_client.containers.get("moorings-test-win-a").status == "running"

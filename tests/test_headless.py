"""`moorings --headless`: restore at start, one per folder, clean exit on signals, SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from harness import ROOT, TestEnv
from moorings_process import MooringsProcess, import_config
from orchestration import instance_values

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]


class Headless(MooringsProcess):
    def __init__(self, cfg: Path, log_dir: Path | None = None) -> None:
        super().__init__(cfg, "--headless", log_dir=log_dir)


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
    import_config(cfg, test_env, {"moorings-test-hl-a": instance_values(test_env)})
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
    import_config(cfg, test_env, {n: instance_values(test_env) for n in names})
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


def test_headless_on_a_full_disk_restores_and_warns(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient,
        headless_runs: list[Headless]) -> None:
    """A gateway whose disk filled up still needs its containers: headless starts, adopts and
    restores them, and says what it could not save, without a traceback."""
    if os.getuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(disk)],
                   check=True)
    try:
        cfg = disk / "cfg"
        kept, gone = "moorings-test-hl-full-a", "moorings-test-hl-full-b"
        import_config(cfg, test_env, {kept: instance_values(test_env),
                                      gone: instance_values(test_env)})
        first = Headless(cfg)
        headless_runs.append(first)
        first.wait_for(f"{kept}: running")
        first.wait_for(f"{gone}: running")
        first.proc.send_signal(signal.SIGTERM)
        assert first.proc.wait(timeout=10) == 0
        docker_client.containers.get(gone).remove(force=True)
        (cfg / "orchestrator.lock").unlink()  # made again at start: its pid finds no room
        st = os.statvfs(disk)
        (disk / "filler").write_bytes(b"\0" * (st.f_bavail * st.f_frsize))

        second = Headless(cfg, log_dir=tmp_path)  # its log must not need the full disk
        headless_runs.append(second)
        second.wait_for(f"{gone}: running")
        second.wait_for(f"{kept}: running")
        assert docker_client.containers.get(gone).status == "running"
        second.wait_for("No space left on device")
        assert "Traceback" not in second.text()
        second.proc.send_signal(signal.SIGTERM)
        assert second.proc.wait(timeout=10) == 0
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)

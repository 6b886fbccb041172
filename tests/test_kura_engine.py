"""A container instance from a Kura snapshot, imported with `config import`, pulls through the
authenticated registry with the snapshot's Base64 password and runs with the fields Kura meant."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import docker
import pytest
from harness import TestEnv, registry_pull_count, wait_for_pull_count
from kura_fixture import kura_instance_text
from orchestration import running

from app.cli import EXIT_OK, main
from app.orchestrator.state import Phase

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]

FIXTURE = Path(__file__).resolve().parent / "data" / "kura" / "engine-instance.xml"
NAME = "moorings-test-kura"


def kura_snapshot(env: TestEnv, tmp_path: Path) -> Path:
    text = kura_instance_text(env)
    path = tmp_path / "snapshot_1700000000000.xml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_imported_kura_instance_pulls_and_runs_as_kura_meant(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    ref = test_env.registry_image
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(ref, force=True)
    folder = tmp_path / "cfg"
    err = io.StringIO()
    code = main(["--config-dir", str(folder), "config", "import",
                 str(kura_snapshot(test_env, tmp_path))], out=io.StringIO(), err=err)
    assert code == EXIT_OK, err.getvalue()
    assert "Created: moorings-test-kura." in err.getvalue()
    assert test_env.registry_password not in err.getvalue()
    before = registry_pull_count(test_env.image_repo)
    with running(folder, test_env) as (orch, rec):
        st = rec.wait_phase(NAME, Phase.RUNNING, timeout=90)
        assert Phase.PULLING in rec.phases(NAME)
        assert wait_for_pull_count(test_env.image_repo, before + 1) > before
        c = docker_client.containers.get(NAME)
        assert c.id == st.container_id
        assert c.attrs["Config"]["Image"] == ref
        assert {"GREETING=from kura", "MODE=test"} <= set(c.attrs["Config"]["Env"])
        assert c.attrs["Config"]["Entrypoint"] == [
            "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
        host = c.attrs["HostConfig"]
        assert host["Memory"] == 64 * 1024 * 1024
        assert (host["CpuPeriod"], host["CpuQuota"]) == (100_000, 50_000)  # Kura's mapping
        assert host["RestartPolicy"]["Name"] == "on-failure"
        assert host["LogConfig"]["Config"] == {"max-size": "10m"}
        assert host["Privileged"] is False
        assert not host.get("PortBindings")
        orch.apply(NAME, {"container.enabled": False}).result(30)
        rec.wait_phase(NAME, Phase.DISABLED)

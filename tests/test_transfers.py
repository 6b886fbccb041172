"""A person's import and export in the running orchestrator (what the window's Import and
Export call): the preview writes nothing, the import does what the preview said or nothing,
the imported instance runs on the engine, an export is whole and private when it holds
passwords."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import docker
import pytest
from harness import TestEnv
from kura_fixture import kura_instance_text
from orchestration import instance_values, running

from app.config.documents import InputProblem, OutputProblem
from app.config.kura import ExportFormat
from app.orchestrator.state import Phase
from app.orchestrator.transfers import PreviewOutdated

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]

FIXTURE = Path(__file__).resolve().parent / "data" / "kura" / "engine-instance.xml"
NAME = "moorings-test-kura"


def kura_file(env: TestEnv, tmp_path: Path) -> Path:
    text = kura_instance_text(env)
    path = tmp_path / "stick" / "snapshot_1700000000000.xml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


def test_the_preview_writes_nothing_and_the_import_runs_what_it_showed(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    folder = tmp_path / "cfg"
    source = kura_file(test_env, tmp_path)
    with running(folder, test_env) as (orch, rec):
        revision = orch.repository.revision
        plan = orch.transfers.preview(source).result(30)
        assert plan.ok
        assert plan.created == (NAME,)
        assert "Would create: moorings-test-kura." in plan.summary()
        assert orch.repository.revision == revision
        assert not orch.repository.has_instance(NAME)
        assert not docker_client.containers.list(all=True, filters={"name": NAME})

        done = orch.transfers.import_previewed(plan, source.name).result(30)
        assert "Created: moorings-test-kura." in done.summary(done=True)
        st = rec.wait_phase(NAME, Phase.RUNNING, timeout=90)
        c = docker_client.containers.get(NAME)
        assert c.id == st.container_id
        assert {"GREETING=from kura", "MODE=test"} <= set(c.attrs["Config"]["Env"])
        whys = [e.message for e in orch.history(NAME)]
        assert any("an import of snapshot_1700000000000.xml" in w for w in whys), whys


def test_an_import_refuses_when_the_configuration_changed_since_its_preview(
        tmp_path: Path, test_env: TestEnv) -> None:
    folder = tmp_path / "cfg"
    source = kura_file(test_env, tmp_path)
    with running(folder, test_env) as (orch, _rec):
        plan = orch.transfers.preview(source).result(30)
        assert plan.created == (NAME,)
        # Meanwhile someone creates the same instance: the import would now replace it.
        orch.create_instance(NAME, instance_values(test_env, **{"container.enabled": False})
                             ).result(30)
        before = dict(orch.repository.instance(NAME).values)
        with pytest.raises(PreviewOutdated, match="changed since the preview"):
            orch.transfers.import_previewed(plan, source.name).result(30)
        assert dict(orch.repository.instance(NAME).values) == before
        # A new preview says what it would do now, and that import goes through.
        again = orch.transfers.preview(source).result(30)
        assert again.replaced == (NAME,)
        orch.transfers.import_previewed(again, source.name).result(30)
        assert orch.repository.instance(NAME).values["container.enabled"] is True


def test_the_service_settings_can_be_left_as_they_are(tmp_path: Path, test_env: TestEnv
                                                      ) -> None:
    folder = tmp_path / "cfg"
    with running(folder, test_env) as (orch, _rec):
        host_before = orch.repository.service_values()
        doc = json.loads((FIXTURE.parent / "snapshot-webui.json").read_text(encoding="utf-8"))
        web = doc["configs"][2]  # disabled, and named as the tests name what they make
        assert web["pid"] == "web-nginx"
        web["pid"] = web["properties"]["kura.service.pid"]["value"] = "moorings-test-web"
        web["properties"]["container.enabled"]["value"] = False
        # Another gateway's engine: importing the service settings would point this one there.
        doc["configs"][1]["properties"]["container.engine.host"]["value"] = \
            "unix:///run/gateway-7/docker.sock"
        source = tmp_path / "snapshot.json"
        source.write_text(json.dumps(doc), encoding="utf-8")
        full = orch.transfers.preview(source).result(30)
        assert full.ok, full.errors
        assert "container.engine.host" in full.service_changes
        only = orch.transfers.preview(source, with_service=False).result(30)
        assert only.service_changes == ()
        assert only.created == ("moorings-test-web",)
        orch.transfers.import_previewed(only, source.name).result(30)
        assert orch.repository.service_values() == host_before


def test_a_file_that_is_not_a_document_is_a_sentence(tmp_path: Path, test_env: TestEnv
                                                     ) -> None:
    folder = tmp_path / "cfg"
    with running(folder, test_env) as (orch, _rec):
        with pytest.raises(InputProblem, match="is a folder, not a file"):
            orch.transfers.preview(tmp_path).result(30)
        binary = tmp_path / "photo.json"
        binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
        with pytest.raises(InputProblem, match=r"photo\.json"):
            orch.transfers.preview(binary).result(30)


def test_an_export_with_passwords_is_whole_and_private(tmp_path: Path, test_env: TestEnv
                                                       ) -> None:
    folder = tmp_path / "cfg"
    with running(folder, test_env) as (orch, _rec):
        orch.create_instance("moorings-test-exported", instance_values(
            test_env, **{"container.enabled": False, "registry.password": "s3cret-pw"})
        ).result(30)
        plain = tmp_path / "out" / "plain.xml"
        plain.parent.mkdir()
        orch.transfers.export(plain, ExportFormat.KURA_XML).result(30)
        assert "s3cret-pw" not in plain.read_text(encoding="utf-8")
        assert "moorings-test-exported" in plain.read_text(encoding="utf-8")
        secret = tmp_path / "out" / "with-passwords.json"
        orch.transfers.export(secret, ExportFormat.MOORINGS_JSON, include_secrets=True).result(30)
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        assert "s3cret-pw" in secret.read_text(encoding="utf-8")
        with pytest.raises(OutputProblem, match="could not be written"):
            orch.transfers.export(tmp_path / "missing" / "x.json", ExportFormat.MOORINGS_JSON
                           ).result(30)

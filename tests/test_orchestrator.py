"""The orchestrator on the real engine: reconcile rules, retries, conflicts, a person's stop."""

from __future__ import annotations

import contextlib
import itertools
import time
from datetime import datetime
from pathlib import Path

import docker
import pytest
from harness import TestEnv, registry_pull_count, wait_for_pull_count
from orchestration import SLEEPER, instance_values, registry_values, running
from slow_registry import SlowRegistry

from app.engine.labels import LABEL_DIGEST, LABEL_INSTANCE
from app.errors import ConfigError
from app.orchestrator.events import PullProgressed
from app.orchestrator.state import Phase

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]


def _container(client: docker.DockerClient, name: str) -> docker.models.containers.Container:
    return client.containers.get(name)


def test_apply_creates_and_restart_adopts_without_recreate(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    name = "moorings-test-adopt"
    with running(tmp_path, test_env) as (orch, rec):
        orch.create_instance(name, instance_values(test_env)).result(30)
        st = rec.wait_phase(name, Phase.RUNNING)
        first = _container(docker_client, name)
        assert first.id == st.container_id
        assert first.labels[LABEL_INSTANCE] == name
        assert first.labels[LABEL_DIGEST]
        started_at = first.attrs["State"]["StartedAt"]

    # A new orchestrator over the same folder (as after a reboot of the app) adopts it.
    with running(tmp_path, test_env) as (orch, rec):
        st = rec.wait_phase(name, Phase.RUNNING)
        again = _container(docker_client, name)
        assert again.id == first.id
        assert again.attrs["State"]["StartedAt"] == started_at
        kinds = [h.kind for h in orch.history(name)]
        # The history survived the relaunch; after it, the container was adopted, not made.
        assert kinds[:kinds.index("restore")].count("created") == 2  # instance, container
        since = kinds[kinds.index("restore"):]
        assert "adopted" in since
        assert "created" not in since
        assert "pulling" not in since
        # The page shows the container's own start, not the relaunch.
        assert st.started_at is not None
        engine_start = datetime.fromisoformat(started_at[:26] + "+00:00").timestamp()
        assert abs(st.started_at - engine_start) < 0.001


def test_change_recreates_and_unchanged_apply_does_not(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    name = "moorings-test-recreate"
    with running(tmp_path, test_env) as (orch, rec):
        orch.create_instance(name, instance_values(test_env)).result(30)
        rec.wait_phase(name, Phase.RUNNING)
        old = _container(docker_client, name).id

        # Changing only the attempts or the timeout does not touch the container (Kura does).
        orch.apply(name, {"container.image.download.retries": 7}).result(30)
        assert rec.wait_phase(name, Phase.RUNNING).container_id == old

        orch.apply(name, {"container.env": "MODE=two, GREETING=hello\\, world"}).result(30)
        st = rec.wait_status(name, lambda s: s.phase is Phase.RUNNING and s.container_id != old)
        new = _container(docker_client, name)
        assert new.id == st.container_id
        assert "GREETING=hello, world" in new.attrs["Config"]["Env"]
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(old)


def test_invalid_apply_changes_nothing(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    name = "moorings-test-invalid"
    with running(tmp_path, test_env) as (orch, rec):
        orch.create_instance(name, instance_values(test_env)).result(30)
        rec.wait_phase(name, Phase.RUNNING)
        cid = _container(docker_client, name).id
        stored = (tmp_path / "moorings.json").read_bytes()
        with pytest.raises(ConfigError) as info:
            orch.apply(name, {"container.memory": "lots", "container.ports.internal": "80-90x"}
                       ).result(30)
        fields = {e.field_id for e in info.value.errors}
        assert fields == {"container.memory", "container.ports.internal"}
        assert (tmp_path / "moorings.json").read_bytes() == stored
        assert _container(docker_client, name).id == cid
        assert _container(docker_client, name).status == "running"
        assert orch.status(name).phase is Phase.RUNNING  # type: ignore[union-attr]


def test_foreign_container_with_the_name_is_never_touched(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    name = "moorings-test-foreign"
    foreign = docker_client.containers.run(test_env.image, ["sleep", "3600"], name=name,
                                           detach=True, init=True)
    with running(tmp_path, test_env) as (orch, rec):
        orch.create_instance(name, instance_values(test_env)).result(30)
        st = rec.wait_phase(name, Phase.CONFLICT)
        assert "already exists" in st.reason
        assert "Moorings will not touch it" in st.reason
        # Disabling and deleting the instance leave it alone too.
        orch.apply(name, {"container.enabled": False}).result(30)
        rec.wait_phase(name, Phase.DISABLED)
        foreign.reload()
        assert foreign.status == "running"
        orch.apply(name, {"container.enabled": True}).result(30)
        rec.wait_phase(name, Phase.CONFLICT)
        # Once the foreign container is gone, the instance goes ahead by itself.
        foreign.remove(force=True)
        st = rec.wait_phase(name, Phase.RUNNING)
        assert _container(docker_client, name).id == st.container_id
        orch.delete_instance("moorings-test-foreign").result(30)


def test_a_container_renamed_outside_is_replaced_under_the_instance_s_name(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    # A pass over one instance asks the engine only for the containers of its name: ours
    # under another name must still be found, as the stale container it is.
    name = "moorings-test-renamed"
    with running(tmp_path, test_env) as (orch, rec):
        orch.create_instance(name, instance_values(test_env)).result(30)
        first = rec.wait_phase(name, Phase.RUNNING).container_id
        _container(docker_client, name).rename(f"{name}-by-hand")
        st = rec.wait_status(name, lambda s: s.phase is Phase.RUNNING
                             and s.container_id != first, timeout=60)
        assert _container(docker_client, name).id == st.container_id
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(first)
        assert any(h.kind == "renamed" and f"{name}-by-hand" in h.message
                   for h in orch.history(name))
        # An apply afterwards (a pass over this instance alone) changes nothing.
        orch.apply(name, instance_values(test_env)).result(30)
        assert [c.id for c in docker_client.containers.list(
            all=True, filters={"label": f"{LABEL_INSTANCE}={name}"})] == [st.container_id]


def test_disable_keeps_configuration_and_delete_removes_both(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    name = "moorings-test-disable"
    with running(tmp_path, test_env) as (orch, rec):
        orch.create_instance(name, instance_values(test_env)).result(30)
        rec.wait_phase(name, Phase.RUNNING)
        orch.apply(name, {"container.enabled": False}).result(30)
        rec.wait_phase(name, Phase.DISABLED)
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(name)
        assert orch.repository.has_instance(name)

        orch.apply(name, {"container.enabled": True}).result(30)
        rec.wait_phase(name, Phase.RUNNING)
        orch.delete_instance(name).result(30)
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(name)
        assert not orch.repository.has_instance(name)
        assert orch.status(name) is None


def test_person_stop_is_respected_until_start(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    name = "moorings-test-stop"
    with running(tmp_path, test_env) as (orch, rec):
        orch.create_instance(name, instance_values(test_env)).result(30)
        rec.wait_phase(name, Phase.RUNNING)
        orch.stop_container(name).result(30)
        st = rec.wait_phase(name, Phase.STOPPED_BY_PERSON)
        assert "stopped by a person" in st.reason
        orch.reconcile().result(30)  # a routine pass must not start it
        assert orch.status(name).phase is Phase.STOPPED_BY_PERSON  # type: ignore[union-attr]
        assert _container(docker_client, name).status == "exited"

    # Still stopped after a restart of Moorings.
    with running(tmp_path, test_env) as (orch, rec):
        rec.wait_phase(name, Phase.STOPPED_BY_PERSON)
        assert _container(docker_client, name).status == "exited"
        orch.start_container(name).result(30)
        rec.wait_phase(name, Phase.RUNNING)
        assert _container(docker_client, name).status == "running"


def test_crash_is_not_a_stop_and_restart_on_failure_counts(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    name = "moorings-test-crash"
    values = instance_values(test_env, **{
        "container.entrypoint": "sh,-c,sleep 0.3; exit 3",
        "container.restart.onfailure": True})
    with running(tmp_path, test_env) as (orch, rec):
        orch.create_instance(name, values).result(30)
        st = rec.wait_status(name, lambda s: s.restart_count >= 2, timeout=60)
        assert st.phase in (Phase.RUNNING, Phase.RESTARTING)
        kinds = [h.kind for h in orch.history(name)]
        assert "exited" in kinds
        assert "restarted" in kinds
        assert any("exited with code 3" in h.message for h in orch.history(name))
        assert Phase.STOPPED_BY_PERSON not in rec.phases(name)
        policy = _container(docker_client, name).attrs["HostConfig"]["RestartPolicy"]
        assert policy["Name"] == "on-failure"


def test_wrong_password_fails_after_exactly_n_attempts(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    name = "moorings-test-badpass"
    repo = f"{test_env.image_repo}-badpass"
    before = registry_pull_count(repo)
    values = registry_values(test_env, password="wrong-password", **{
        "container.image": f"{test_env.registry}/{repo}",
        "container.image.download.retries": 3,
        "container.image.download.interval": 300})
    with running(tmp_path, test_env, periodic_interval_s=0.5) as (orch, rec):
        orch.create_instance(name, values).result(30)
        st = rec.wait_phase(name, Phase.FAILED, timeout=60)
        assert "gave up after 3 attempts" in st.reason
        assert test_env.registry in st.reason
        assert "username or password" in st.reason
        assert "wrong-password" not in st.reason
        assert wait_for_pull_count(repo, before + 3) - before == 3
        time.sleep(2.5)  # five periodic passes: none tries again (no account lock-out)
        assert registry_pull_count(repo) - before == 3
        st = orch.status(name)
        assert st is not None
        assert st.phase is Phase.FAILED
        assert "gave up after 3 attempts" in st.reason
        # Attempts were spaced by the interval: the retry-wait states announced it.
        waits = [h for h in orch.history(name) if h.kind == "failed attempt"]
        assert len(waits) == 2
        assert all("Next attempt in 0.3 s" in h.message for h in waits)
        gaps = [b.time - a.time for a, b in itertools.pairwise(waits)]
        assert all(g >= 0.3 for g in gaps)
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(name)
        # A person's Retry gives it exactly its attempts again, and it gives up again.
        orch.retry_instance(name).result(30)
        assert wait_for_pull_count(repo, before + 6) - before == 6
        st = rec.wait_status(name, lambda s: s.phase is Phase.FAILED
                             and "gave up after 3 attempts" in s.reason
                             and len([h for h in orch.history(name) if h.kind == "retry"]) == 1)
        time.sleep(1.5)
        assert registry_pull_count(repo) - before == 6


def test_one_attempt_means_one_pull_after_an_apply(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    """Image Download Retries = 1, the credentials cleared, Apply once: exactly one pull."""
    name = "moorings-test-onepull"
    repo = f"{test_env.image_repo}-onepull"
    values = registry_values(test_env, **{"container.image": f"{test_env.registry}/{repo}",
                                          "container.image.download.retries": 1})
    with running(tmp_path, test_env, periodic_interval_s=0.5) as (orch, rec):
        orch.create_instance(name, {**values, "container.enabled": False}).result(30)
        rec.wait_phase(name, Phase.DISABLED)
        orch.apply(name, {"container.enabled": True, "registry.username": "",
                          "registry.password": ""}).result(30)
        st = rec.wait_phase(name, Phase.FAILED, timeout=60)
        assert "gave up after 1 attempt:" in st.reason
        assert "needs a username and password" in st.reason
        time.sleep(2.0)  # four periodic passes
        # Without credentials the engine stops at the registry's challenge (no manifest
        # request to count), so count the pulls Moorings started.
        assert [h.kind for h in orch.history(name)].count("pulling") == 1
        assert "gave up after 1 attempt:" in orch.status(name).reason  # type: ignore[union-attr]


def test_unlimited_attempts_back_off(tmp_path: Path, test_env: TestEnv) -> None:
    name = "moorings-test-unlimited"
    values = registry_values(test_env, tag="no-such-tag", **{
        "container.image.download.retries": 0,
        "container.image.download.interval": 100})
    with running(tmp_path, test_env) as (orch, rec):
        orch.create_instance(name, values).result(30)
        rec.wait_status(name, lambda s: s.phase is Phase.RETRY_WAIT and s.attempt >= 3,
                        timeout=30)
        waits = [h.message for h in orch.history(name) if h.kind == "failed attempt"]
        assert "Next attempt in 1 s" in waits[0]
        assert "Next attempt in 2 s" in waits[1]
        assert "Next attempt in 4 s" in waits[2]
        assert "attempt 1 failed" in waits[0]
        assert "has no image" in waits[0] or "not found" in waits[0].lower()
        orch.apply(name, {"container.enabled": False}).result(30)
        rec.wait_phase(name, Phase.DISABLED)


def test_authenticated_pull_then_run(tmp_path: Path, test_env: TestEnv,
                                     docker_client: docker.DockerClient) -> None:
    name = "moorings-test-pull"
    ref = test_env.registry_image
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(ref, force=True)
    with running(tmp_path, test_env) as (orch, rec):
        orch.create_instance(name, registry_values(test_env)).result(30)
        st = rec.wait_phase(name, Phase.RUNNING, timeout=60)
        assert _container(docker_client, name).attrs["Config"]["Image"] == ref
        phases = rec.phases(name)
        assert Phase.PULLING in phases
        assert phases.index(Phase.PULLING) < phases.index(Phase.RUNNING)
        assert st.container_id


def test_privileged_start_failure_is_a_sentence_and_gives_up_leaving_nothing(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    name = "moorings-test-privileged"
    values = instance_values(test_env, **{"container.privileged": True,
                                          "container.image.download.retries": 2,
                                          "container.image.download.interval": 3000})
    with running(tmp_path, test_env, periodic_interval_s=0.5) as (orch, rec):
        orch.create_instance(name, values).result(30)
        st = rec.wait_phase(name, Phase.RETRY_WAIT, timeout=60)
        assert "privileged" in st.reason
        assert "Traceback" not in st.reason
        # Between attempts the Created container is kept (and was asked to be privileged).
        c = _container(docker_client, name)
        assert c.attrs["HostConfig"]["Privileged"] is True
        assert c.status == "created"
        st = rec.wait_phase(name, Phase.FAILED, timeout=60)
        assert "gave up after 2 attempts" in st.reason
        assert "Retry" in st.reason
        # Giving up leaves nothing behind, and no pass tries again.
        _wait_gone(docker_client, name)
        time.sleep(2.0)  # four periodic passes
        assert orch.status(name).phase is Phase.FAILED  # type: ignore[union-attr]
        assert "gave up after 2 attempts" in orch.status(name).reason  # type: ignore[union-attr]
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(name)
        assert [h.kind for h in orch.history(name)].count("failed attempt") == 1
        orch.delete_instance(name).result(30)


def _wait_gone(client: docker.DockerClient, name: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.containers.get(name)
        except docker.errors.NotFound:
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} is still there")


def test_entrypoint_reaches_engine(tmp_path: Path, test_env: TestEnv,
                                   docker_client: docker.DockerClient) -> None:
    name = "moorings-test-entry"
    with running(tmp_path, test_env) as (orch, rec):
        orch.create_instance(name, instance_values(test_env)).result(30)
        rec.wait_phase(name, Phase.RUNNING)
        assert _container(docker_client, name).attrs["Config"]["Entrypoint"] == \
            SLEEPER.split(",", 2)


def test_pull_from_a_hanging_registry_ends_at_the_deadline(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    name = "moorings-test-hang"
    tag = f"hang-{time.monotonic_ns()}"  # the engine keeps a stalled manifest request: fresh tag
    with SlowRegistry(test_env.registry, "hang-on-manifest") as proxy:
        values = registry_values(test_env, tag=tag, **{
            "container.image": f"{proxy.address}/{test_env.image_repo}",
            "registry.hostname": proxy.address,
            "container.image.download.retries": 1,
            "container.image.download.timeout": 2})
        with running(tmp_path, test_env) as (orch, rec):
            orch.create_instance(name, values).result(30)
            st = rec.wait_phase(name, Phase.FAILED, timeout=60)
            assert proxy.held.is_set()
            assert "2 s Image Download Timeout" in st.reason
            assert "gave up after 1 attempt" in st.reason
            # Bounded by the deadline (wait_phase's 60 s), not the engine's own 15-minute wait.


def test_pull_progress_events_are_published(tmp_path: Path, test_env: TestEnv,
                                             docker_client: docker.DockerClient) -> None:
    name = "moorings-test-progress"
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(test_env.registry_image, force=True)
    with running(tmp_path, test_env) as (orch, rec):
        orch.create_instance(name, registry_values(
            test_env, **{"container.image.pull.always": True})).result(30)
        rec.wait_phase(name, Phase.RUNNING, timeout=60)
        progress = [e.progress for e in rec.events if isinstance(e, PullProgressed)]
        assert progress
        # Per-layer figures are checked in test_pull.py with an image whose layers are new;
        # here the layers already exist locally, so only the events' flow is checked.
        assert progress[-1].reference == test_env.registry_image
        # Always pull: a new apply pulls again even though the image is now present.
        before = registry_pull_count(test_env.image_repo)
        orch.apply(name, {"container.env": "AGAIN=1"}).result(30)
        rec.wait_status(name, lambda s: s.phase is Phase.RUNNING
                        and "AGAIN=1" in docker_client.containers.get(name).attrs["Config"]["Env"])
        assert wait_for_pull_count(test_env.image_repo, before + 1) == before + 1
        # Without it, a present image is not pulled again.
        orch.apply(name, {"container.image.pull.always": False, "container.env": "AGAIN=2"}
                   ).result(30)
        rec.wait_status(name, lambda s: s.phase is Phase.RUNNING
                        and "AGAIN=2" in docker_client.containers.get(name).attrs["Config"]["Env"])
        time.sleep(0.5)
        assert registry_pull_count(test_env.image_repo) == before + 1


def _push_unique_image(env: TestEnv, client: docker.DockerClient, repo: str) -> str:
    """An image of its own (a random 2 MB layer) in the registry and not on the engine: its
    pull really downloads. Returns its tag."""
    import io
    import os
    import tarfile

    tag = f"t{time.monotonic_ns()}"
    data = os.urandom(2_000_000)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("blob.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    ref = f"{env.registry}/{repo}:{tag}"
    client.api.import_image_from_data(buf.getvalue(), repository=f"{env.registry}/{repo}",
                                      tag=tag)
    auth = {"username": env.registry_user, "password": env.registry_password}
    for item in client.api.push(f"{env.registry}/{repo}", tag=tag, auth_config=auth,
                                stream=True, decode=True):
        assert "error" not in item, item
    client.images.remove(ref, force=True)
    return tag


def test_deleting_an_instance_while_it_pulls_cancels_the_pull_and_leaves_nothing(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    name = "moorings-test-delpull"
    repo = "moorings-test/delpull"
    tag = _push_unique_image(test_env, docker_client, repo)
    with SlowRegistry(test_env.registry, "slow", rate=20_000) as proxy:
        values = registry_values(test_env, tag=tag, **{
            "container.image": f"{proxy.address}/{repo}",
            "registry.hostname": proxy.address,
            "container.image.download.retries": 1,
            "container.image.download.timeout": 600})
        with running(tmp_path, test_env) as (orch, rec):
            orch.create_instance(name, values).result(30)
            rec.wait_status(name, lambda s: s.phase is Phase.PULLING and s.progress is not None,
                            timeout=60)
            assert proxy.connections > 0
            orch.delete_instance(name).result(30)
            seen = len(rec.events)
            # The engine drops its download at once (a 600 s pull left running would keep
            # the trickle going for minutes).
            deadline = time.monotonic() + 15
            while proxy.connections and time.monotonic() < deadline:
                time.sleep(0.05)
            assert proxy.connections == 0
            time.sleep(1.0)  # anything late would have arrived by now
            late = [e for e in rec.events[seen:]
                    if getattr(e, "name", None) == name
                    or getattr(getattr(e, "status", None), "name", None) == name]
            assert late == []
            assert orch.status(name) is None
            assert orch.history(name) == []
            with pytest.raises(docker.errors.NotFound):
                docker_client.containers.get(name)

"""pull_image() and image_present() against the real engine and authenticated registry."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import socket
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import docker
import docker.errors
import pytest
from harness import TestEnv
from slow_registry import SlowRegistry

from app.engine.progress import PullProgress
from app.engine.pull import PullError, image_present, pull_image

pytestmark = pytest.mark.engine

MakeApi = Callable[[float | None], docker.APIClient]
# Elapsed times are measured only to fail a test that hangs, never to assert a tight duration.
HANG_LIMIT_S = 20.0


@pytest.fixture
def make_api(test_env: TestEnv) -> MakeApi:
    def make(read_timeout: float | None) -> docker.APIClient:
        return docker.APIClient(
            base_url=test_env.docker_host,
            version="auto",
            timeout=read_timeout if read_timeout is not None else 7 * 24 * 3600,
        )

    return make


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def push(api: docker.APIClient, env: TestEnv, local: str, repository: str, tag: str) -> str:
    """Push ``local`` to the registry as ``<registry>/<repository>:<tag>``, then drop that
    local tag; returns the registry reference. A push reports errors only in its stream."""
    target = f"{env.registry}/{repository}"
    api.tag(local, target, tag)
    try:
        for item in api.push(target, tag=tag, stream=True, decode=True,
                             auth_config=env.auth_config):
            assert "error" not in item, item
            assert "errorDetail" not in item, item
    finally:
        api.remove_image(f"{target}:{tag}")
    return f"{target}:{tag}"


def random_layer_tar(size: int) -> bytes:
    """A root filesystem with ``size`` bytes of random (incompressible) data."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("data/random.bin")
        info.size = size
        tar.addfile(info, io.BytesIO(os.urandom(size)))
    return buffer.getvalue()


@pytest.fixture
def registry_only_image(
    docker_client: docker.DockerClient, test_env: TestEnv
) -> Iterator[Callable[[str, int], str]]:
    """``make(repository, size)``: an image of ``size`` random bytes in the registry (new
    tag) whose layer the engine does not have, so a pull really downloads it."""
    api = docker_client.api
    made: list[str] = []

    def make(repository: str, size: int) -> str:
        tag = unique("t")
        local = f"{repository}:{tag}"
        api.import_image_from_data(random_layer_tar(size), repository=repository, tag=tag)
        try:
            reference = push(api, test_env, local, repository, tag)
        finally:
            api.remove_image(local)  # the last tag: the image and its layer go
        made.append(reference)
        return reference

    yield make
    repositories = {reference.rsplit(":", 1)[0] for reference in made}
    for image in api.images():
        names = (image.get("RepoTags") or []) + (image.get("RepoDigests") or [])
        if any(name.startswith((f"{r}:", f"{r}@")) for name in names for r in repositories):
            remove_local(api, image["Id"])  # pulled by digest: no tag to remove it by


def remove_local(api: docker.APIClient, reference: str) -> None:
    with contextlib.suppress(docker.errors.ImageNotFound, docker.errors.NotFound):
        api.remove_image(reference, force=True)


def test_pull_reports_layers_and_a_final_total(
    make_api: MakeApi, test_env: TestEnv, docker_client: docker.DockerClient,
    registry_only_image: Callable[[str, int], str],
) -> None:
    size = 256 * 1024
    reference = registry_only_image("moorings-test/pull-ok", size)
    assert not image_present(docker_client.api, reference)
    events: list[PullProgress] = []
    threads: set[int] = set()

    def on_progress(p: PullProgress) -> None:
        threads.add(threading.get_ident())
        events.append(p)

    pull_image(make_api, reference, test_env.auth_config, timeout_s=60,
               on_progress=on_progress, progress_interval_s=0.0)

    assert image_present(docker_client.api, reference)
    assert threads == {threading.get_ident()}  # called on the pulling thread only
    final = events[-1]
    assert final.reference == reference
    assert len(final.layers) == 1
    layer = final.layers[0]
    assert layer.status == "Pull complete"
    assert layer.total == layer.current > size // 2  # compressed random data: about its size
    assert final.total == final.current == layer.total
    seen = {layer.status for event in events for layer in event.layers}
    assert "Pull complete" in seen
    assert seen & {"Downloading", "Download complete"}
    currents = [event.current for event in events]
    assert currents == sorted(currents)  # the total only grows


def test_image_present_by_tag_and_by_digest_and_digest_pull(
    make_api: MakeApi, test_env: TestEnv, docker_client: docker.DockerClient,
    registry_only_image: Callable[[str, int], str],
) -> None:
    api = docker_client.api
    reference = registry_only_image("moorings-test/pull-digest", 4096)
    pull_image(make_api, reference, test_env.auth_config, timeout_s=60)
    repository = reference.rsplit(":", 1)[0]
    digests = api.inspect_image(reference)["RepoDigests"]
    by_digest = next(d for d in digests if d.startswith(repository + "@sha256:"))

    assert image_present(api, reference)
    assert image_present(api, by_digest)
    assert not image_present(api, f"{repository}:other-tag")
    assert not image_present(api, f"{repository}@sha256:{'0' * 64}")
    assert not image_present(api, repository)  # means :latest, which was never pulled

    remove_local(api, reference)
    assert not image_present(api, by_digest)
    pull_image(make_api, by_digest, test_env.auth_config, timeout_s=60)
    assert image_present(api, by_digest)


def test_wrong_password_is_an_auth_error_naming_the_registry(
    make_api: MakeApi, test_env: TestEnv
) -> None:
    wrong = "Wr0ng-" + uuid.uuid4().hex
    credentials = {"username": test_env.registry_user, "password": wrong}
    with pytest.raises(PullError) as failed:
        pull_image(make_api, test_env.registry_image, credentials, timeout_s=30)
    err = failed.value
    assert err.kind == "auth"
    assert err.sentence == (
        f"registry {test_env.registry} refused the username or password; check Authentication "
        "Username and Password"
    )
    for secret in (wrong, test_env.registry_password):
        assert secret not in str(err)
        assert secret not in repr(err)


def test_no_credentials_for_a_private_repository(make_api: MakeApi, test_env: TestEnv) -> None:
    with pytest.raises(PullError) as failed:
        pull_image(make_api, test_env.registry_image, None, timeout_s=30)
    assert failed.value.kind == "auth"
    assert "needs a username and password" in failed.value.sentence


def test_unknown_tag_is_not_found(make_api: MakeApi, test_env: TestEnv) -> None:
    reference = f"{test_env.registry_repo}:{unique('missing')}"
    with pytest.raises(PullError) as failed:
        pull_image(make_api, reference, test_env.auth_config, timeout_s=30)
    assert failed.value.kind == "not-found"
    assert failed.value.sentence == (
        f"the registry has no image {reference}; check Image name and Image tag"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_registry_down_is_unreachable(make_api: MakeApi, test_env: TestEnv) -> None:
    registry = f"127.0.0.1:{free_port()}"  # closed again: nothing listens there
    reference = f"{registry}/moorings-test/busybox:1"
    with pytest.raises(PullError) as failed:
        pull_image(make_api, reference, test_env.auth_config, timeout_s=30)
    assert failed.value.kind == "unreachable"
    assert failed.value.sentence.startswith(
        f"registry {registry} is not reachable (connection refused)"
    )


@pytest.mark.parametrize("version", ["auto", "1.41"])
def test_engine_down_is_unreachable(test_env: TestEnv, version: str) -> None:
    url = "unix:///nonexistent/docker.sock"

    def make(read_timeout: float | None) -> docker.APIClient:
        # "auto" fails while building the client, a pinned version at the pull itself.
        return docker.APIClient(base_url=url, version=version, timeout=read_timeout or 60)

    with pytest.raises(PullError) as failed:
        pull_image(make, test_env.registry_image, test_env.auth_config, timeout_s=10)
    assert failed.value.kind == "unreachable"
    assert "is not running: its socket does not exist" in failed.value.sentence
    if version != "auto":  # the client exists, so its address is known
        assert f"the Docker engine at {url} is not running" in failed.value.sentence


def reader_threads() -> list[threading.Thread]:
    """pull_image's reader threads still alive (it names them ``moorings-pull``)."""
    return [t for t in threading.enumerate() if t.name == "moorings-pull" and t.is_alive()]


@pytest.fixture
def hang_reference(docker_client: docker.DockerClient, test_env: TestEnv) -> str:
    """The test image in the registry under a tag of its own: the engine never gives up a
    stalled manifest request, and a second pull of the same reference would join it."""
    tag = unique("hang")
    push(docker_client.api, test_env, test_env.image, test_env.image_repo, tag)
    return f"{test_env.image_repo}:{tag}"  # without the registry: the proxy goes in front


def test_registry_hanging_on_the_manifest_ends_at_the_deadline(
    make_api: MakeApi, test_env: TestEnv, hang_reference: str
) -> None:
    events: list[PullProgress] = []
    with SlowRegistry(test_env.registry, "hang-on-manifest") as proxy:
        reference = f"{proxy.address}/{hang_reference}"
        started = time.monotonic()
        with pytest.raises(PullError) as failed:
            pull_image(make_api, reference, test_env.auth_config, timeout_s=3,
                       on_progress=events.append)
        elapsed = time.monotonic() - started
        assert proxy.held.is_set()  # it really hung where it should
    assert elapsed < HANG_LIMIT_S
    assert not reader_threads()  # the blocked request was woken up, not left behind
    assert failed.value.kind == "deadline"
    assert failed.value.sentence.startswith(
        f"pulling {reference} took longer than the 3 s Image Download Timeout"
    )
    assert events == []  # no final progress for a failed pull, and nothing came before


def test_no_progress_for_the_stall_timeout_ends_the_pull(
    make_api: MakeApi, test_env: TestEnv, hang_reference: str
) -> None:
    with SlowRegistry(test_env.registry, "hang-on-manifest") as proxy:
        reference = f"{proxy.address}/{hang_reference}"
        started = time.monotonic()
        with pytest.raises(PullError) as failed:
            pull_image(make_api, reference, test_env.auth_config, timeout_s=120,
                       stall_timeout_s=2)
        elapsed = time.monotonic() - started
    assert elapsed < HANG_LIMIT_S
    assert failed.value.kind == "deadline"
    assert "made no progress for 2 s" in failed.value.sentence


def test_slow_registry_ends_at_the_deadline_while_progress_kept_arriving(
    make_api: MakeApi, test_env: TestEnv, registry_only_image: Callable[[str, int], str]
) -> None:
    in_registry = registry_only_image("moorings-test/pull-slow", 512 * 1024)
    events: list[tuple[float, PullProgress]] = []
    with SlowRegistry(test_env.registry, "slow", rate=20_000) as proxy:
        reference = in_registry.replace(test_env.registry, proxy.address, 1)
        started = time.monotonic()
        with pytest.raises(PullError) as failed:
            pull_image(make_api, reference, test_env.auth_config, timeout_s=4,
                       on_progress=lambda p: events.append((time.monotonic(), p)))
        elapsed = time.monotonic() - started
    assert elapsed < HANG_LIMIT_S
    assert not reader_threads()
    assert failed.value.kind == "deadline"
    assert "took longer than the 4 s Image Download Timeout" in failed.value.sentence
    # Bytes kept coming until the end: several throttled reports, the later ones further on.
    assert len(events) >= 3
    assert len(events) <= 4 / 0.25 + 2
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(events)]
    assert min(gaps) >= 0.2  # at most one report per progress_interval_s (0.25 s)
    assert events[-1][0] - started > 2  # still reporting in the second half
    last = events[-1][1]
    assert 0 < last.current < last.total
    assert any(layer.status == "Downloading" for layer in last.layers)


@pytest.mark.parametrize("mode", ["hang-on-manifest", "slow"])
def test_cancel_stops_the_pull(
    make_api: MakeApi, test_env: TestEnv, docker_client: docker.DockerClient, mode: str,
    registry_only_image: Callable[[str, int], str],
) -> None:
    if mode == "slow":
        in_registry = registry_only_image("moorings-test/pull-cancel", 512 * 1024)
        path = in_registry.split("/", 1)[1]
    else:
        tag = unique("cancel")
        push(docker_client.api, test_env, test_env.image, test_env.image_repo, tag)
        path = f"{test_env.image_repo}:{tag}"
    cancel = threading.Event()
    timer = threading.Timer(1.5, cancel.set)
    with SlowRegistry(test_env.registry, mode) as proxy:
        reference = f"{proxy.address}/{path}"
        started = time.monotonic()
        timer.start()
        try:
            with pytest.raises(PullError) as failed:
                pull_image(make_api, reference, test_env.auth_config, timeout_s=120,
                           cancel=cancel)
        finally:
            timer.cancel()
        elapsed = time.monotonic() - started
    assert elapsed < HANG_LIMIT_S
    assert not reader_threads()
    assert failed.value.kind == "cancelled"
    assert failed.value.sentence == f"pulling {reference} was cancelled"


def test_a_registry_resetting_mid_blob_is_reported_as_broken_downloads_not_slowness(
    make_api: MakeApi, test_env: TestEnv, registry_only_image: Callable[[str, int], str]
) -> None:
    in_registry = registry_only_image("moorings-test/pull-reset", 256 * 1024)
    with SlowRegistry(test_env.registry, "reset-mid-blob") as proxy:
        reference = in_registry.replace(test_env.registry, proxy.address, 1)
        with pytest.raises(PullError) as failed:
            # The engine retries a broken layer after 5, 10, 15... s: the deadline comes first.
            pull_image(make_api, reference, test_env.auth_config, timeout_s=8)
        assert proxy.resets >= 1  # it really was cut
    sentence = failed.value.sentence
    assert failed.value.kind == "unreachable"
    assert sentence.startswith(
        f"pulling {reference} did not finish within the 8 s Image Download Timeout: the "
        "download of layer ")
    assert f" from registry {proxy.address} broke off " in sentence
    assert "slow" not in sentence

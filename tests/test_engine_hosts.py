"""EngineTarget reaches the same engine over unix://, tcp:// with TLS and ssh://."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import certifi
import docker
import docker.errors
import pytest
from endpoints import SshEndpoint, TlsEndpoint
from harness import TEST_LABELS, TEST_PREFIX, TestEnv

from app.config.model import Scalar
from app.engine.errors import explain
from app.engine.hosts import DEFAULT_HOST, EngineTarget
from app.metatype import SERVICE_PID, load_catalog

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]

SERVICE = load_catalog().by_pid(SERVICE_PID)


def tls_target(endpoint: TlsEndpoint, ca: object = None) -> EngineTarget:
    return EngineTarget(url=endpoint.url, ca_cert=str(ca or endpoint.ca),
                        client_cert=str(endpoint.cert), client_key=str(endpoint.key))


def container_name(kind: str) -> str:
    return f"{TEST_PREFIX}-host-{kind}-{uuid.uuid4().hex[:8]}"


def assert_sentence(sentence: str) -> None:
    """What a person sees: one line, no traceback, no raw exception repr."""
    assert sentence
    assert "\n" not in sentence
    assert "Traceback" not in sentence
    assert "Error(" not in sentence  # no SSLError(...)/MaxRetryError(...) reprs


@pytest.fixture(params=["unix", "tls", "ssh"])
def target(request: pytest.FixtureRequest, test_env: TestEnv,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[EngineTarget]:
    """The same engine, one way each; the SSH client environment stays on while it is used."""
    if request.param == "unix":
        yield EngineTarget(url=test_env.docker_host)
    elif request.param == "tls":
        tls: TlsEndpoint = request.getfixturevalue("tls_endpoint")
        # A CA bundle in the environment that lacks our CA, as on many managed machines:
        # requests would use it instead of the target's CA unless hosts.py prevents that.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
        yield tls_target(tls)
    else:
        ssh: SshEndpoint = request.getfixturevalue("ssh_endpoint")
        with ssh.client_env():
            yield EngineTarget(url=ssh.url)


def test_client_negotiates_lists_and_creates(target: EngineTarget, test_env: TestEnv,
                                             docker_client: docker.DockerClient) -> None:
    engine_version = docker_client.version()["ApiVersion"]
    api = target.api_client()
    try:
        # Negotiated, not the SDK's newer default (1.45 would fail every call on engine 20.10).
        assert api.api_version == engine_version
        assert api._url("/containers/json").endswith(f"/v{engine_version}/containers/json")
        assert isinstance(api.containers(all=True), list)

        name = container_name(target.url.split(":", 1)[0])
        created = api.create_container(test_env.image, command=["true"], name=name,
                                       labels=TEST_LABELS, host_config=api.create_host_config(
                                           init=True))
        seen = docker_client.api.inspect_container(name)
        assert seen["Id"] == created["Id"]
        assert seen["State"]["Status"] == "created"
    finally:
        api.close()


def test_events_stream_through_tls(tls_endpoint: TlsEndpoint, test_env: TestEnv,
                                   docker_client: docker.DockerClient) -> None:
    api = tls_target(tls_endpoint).api_client(timeout=None)
    stream = api.events(decode=True, filters={"type": "container", "event": "create",
                                              "label": "moorings.test=1"})
    # No read timeout on this client: only this watchdog ends a stream that never delivers.
    watchdog = threading.Timer(15, stream.close)
    watchdog.start()
    try:
        time.sleep(0.5)  # a quiet stream must stay open through the proxy
        created = docker_client.api.create_container(test_env.image, name=container_name("event"),
                                                     labels=TEST_LABELS)
        found = next((e for e in stream if e.get("id") == created["Id"]), None)
        assert found is not None, "the stream ended without the create event"
        assert found["Action"] == "create"
        assert tls_endpoint.proxy.errors == []
    finally:
        watchdog.cancel()
        stream.close()
        api.close()


def test_wrong_ca_is_refused_in_a_sentence(tls_endpoint: TlsEndpoint) -> None:
    with pytest.raises(docker.errors.DockerException) as info:
        tls_target(tls_endpoint, ca=tls_endpoint.wrong_ca).api_client()
    sentence = explain(info.value, action=f"connecting to the engine at {tls_endpoint.url}")
    assert_sentence(sentence)
    assert "certificate" in sentence
    assert tls_endpoint.url in sentence


def test_no_client_certificate_is_refused_in_a_sentence(tls_endpoint: TlsEndpoint) -> None:
    # Trusting the engine is not enough: the engine wants this client's certificate.
    without_cert = EngineTarget(url=tls_endpoint.url, ca_cert=str(tls_endpoint.ca))
    with pytest.raises(docker.errors.DockerException) as info:
        without_cert.api_client()
    sentence = explain(info.value, action=f"connecting to the engine at {tls_endpoint.url}")
    assert_sentence(sentence)
    assert "certificate" in sentence


def test_plain_tcp_against_tls_is_refused_in_a_sentence(tls_endpoint: TlsEndpoint) -> None:
    # The proxy answers plain HTTP as dockerd does: "400 Client sent an HTTP request to an
    # HTTPS server".
    plain = EngineTarget(url=tls_endpoint.url)
    assert not plain.uses_tls
    with pytest.raises(docker.errors.DockerException) as info:
        plain.api_client(timeout=10)
    sentence = explain(info.value, action=f"connecting to the engine at {tls_endpoint.url}")
    assert_sentence(sentence)
    assert tls_endpoint.url in sentence


def test_from_values_builds_the_tls_target(tls_endpoint: TlsEndpoint) -> None:
    values: dict[str, Scalar] = {
        "container.engine.host": tls_endpoint.url, "tls.ca.cert": str(tls_endpoint.ca),
        "tls.client.cert": str(tls_endpoint.cert), "tls.client.key": str(tls_endpoint.key),
        "tls.verify": True}
    target = EngineTarget.from_values(SERVICE, values)
    assert target == tls_target(tls_endpoint)
    assert target.uses_tls
    api = target.api_client()
    try:
        assert api.ping()
    finally:
        api.close()


def test_from_values_builds_the_ssh_and_default_targets(ssh_endpoint: SshEndpoint) -> None:
    empty: dict[str, Scalar] = {"container.engine.host": "", "tls.ca.cert": "",
                                "tls.client.cert": "", "tls.client.key": "", "tls.verify": True}
    assert EngineTarget.from_values(SERVICE, empty) == EngineTarget(url=DEFAULT_HOST)
    target = EngineTarget.from_values(SERVICE, {**empty, "container.engine.host": ssh_endpoint.url})
    assert target == EngineTarget(url=ssh_endpoint.url)
    assert not target.uses_tls
    with ssh_endpoint.client_env():
        api = target.api_client()
        try:
            assert api.ping()
        finally:
            api.close()

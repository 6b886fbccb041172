"""explain() and engine_error() over constructed SDK, requests and socket exceptions."""

from __future__ import annotations

import socket
import ssl
from types import SimpleNamespace

import docker.errors
import pytest
import requests.exceptions
import urllib3.exceptions

from app.engine.errors import KINDS, EngineError, engine_error, explain, registry_of

REG = "127.0.0.1:5000"
REF = f"{REG}/moorings-test/app:2"
PULL = f"pulling {REF}"


def api_error(
    status: int, explanation: str, path: str = "/images/create"
) -> docker.errors.APIError:
    """The exception docker-py raises for an engine answer with this status and message."""
    response = SimpleNamespace(
        status_code=status, url=f"http+docker://localhost/v1.41{path}", reason="Error"
    )
    cls: type[docker.errors.APIError] = docker.errors.NotFound if status == 404 else (
        docker.errors.APIError
    )
    return cls(f"{status} error", response=response, explanation=explanation)


def check(err: EngineError) -> None:
    """What every sentence must be: one line, no JSON, no Python internals."""
    assert err.kind in KINDS
    text = err.sentence
    assert "\n" not in text
    assert "Traceback" not in text
    for internal in ("{", "}", "Error(", "HTTPConnectionPool", "http+docker"):
        assert internal not in text
    assert text == text.strip()
    assert not text.endswith(".")


def pull_error(exc: BaseException) -> EngineError:
    err = engine_error(exc, action=PULL, reference=REF)
    check(err)
    return err


# --- the registry, as the engine reports it ------------------------------------------


@pytest.mark.parametrize(
    "explanation",
    [
        "unauthorized: authentication required",
        "Get https://registry-1.docker.io/v2/: unauthorized: incorrect username or password",
        'login attempt to http://127.0.0.1:5000/v2/ failed with status: 401 Unauthorized',
    ],
)
def test_wrong_password_names_the_registry_and_the_fields(explanation: str) -> None:
    err = pull_error(api_error(500, explanation))
    assert err.kind == "auth"
    assert err.sentence == (
        f"registry {REG} refused the username or password; check Authentication Username and "
        "Password"
    )


def test_missing_credentials_say_to_fill_them_in() -> None:
    exc = api_error(
        500, f'Head "http://{REG}/v2/moorings-test/app/manifests/2": no basic auth credentials'
    )
    err = pull_error(exc)
    assert err.kind == "auth"
    assert f"registry {REG} needs a username and password for {REF}" in err.sentence
    assert "Authentication Username and Password" in err.sentence


def test_docker_hub_access_denied() -> None:
    exc = api_error(
        404,
        "pull access denied for someone/private, repository does not exist or may require "
        "'docker login': denied: requested access to the resource is denied",
    )
    err = engine_error(exc, action="pulling someone/private:1", reference="someone/private:1")
    check(err)
    assert err.kind == "auth"
    assert err.sentence.startswith("registry docker.io refused access to someone/private:1")


@pytest.mark.parametrize(
    "explanation",
    [
        f"manifest for {REF} not found: manifest unknown: manifest unknown",
        "manifest unknown: manifest unknown",
        "name unknown: repository name not known to registry",
    ],
)
def test_unknown_tag_or_repository(explanation: str) -> None:
    err = pull_error(api_error(404, explanation))
    assert err.kind == "not-found"
    assert err.sentence == f"the registry has no image {REF}; check Image name and Image tag"


@pytest.mark.parametrize(
    ("explanation", "reason"),
    [
        ('Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused',
         "connection refused"),
        ('Get "https://nowhere.invalid/v2/": dial tcp: lookup nowhere.invalid on 10.0.0.53:53: '
         "no such host", "its host name is unknown"),
        ('Get "https://slow.example/v2/": net/http: request canceled while waiting for '
         "connection (Client.Timeout exceeded while awaiting headers)", "did not answer in time"),
    ],
)
def test_registry_unreachable(explanation: str, reason: str) -> None:
    host = explanation.split("//", 1)[1].split("/", 1)[0]
    err = engine_error(api_error(500, explanation), action="pulling x", registry=host)
    check(err)
    assert err.kind == "unreachable"
    assert err.sentence.startswith(f"registry {host} is not reachable (")
    assert reason in err.sentence


def test_registry_unreachable_without_a_known_registry_names_the_url_host() -> None:
    exc = api_error(500, 'Get "http://10.1.2.3:5000/v2/": dial tcp 10.1.2.3:5000: i/o timeout')
    err = engine_error(exc, action="pulling something")
    assert err.kind == "unreachable"
    assert err.sentence.startswith("registry 10.1.2.3:5000 is not reachable")


def test_registry_certificate_problem() -> None:
    exc = api_error(
        500,
        'Get "https://reg.example:5000/v2/": x509: certificate signed by unknown authority',
    )
    err = engine_error(exc, action="pulling reg.example:5000/a:1", reference="reg.example:5000/a:1")
    check(err)
    assert err.kind == "tls"
    assert "registry reg.example:5000" in err.sentence
    assert "certificate signed by unknown authority" in err.sentence


def test_invalid_reference() -> None:
    exc = api_error(400, "invalid reference format: repository name must be lowercase")
    err = engine_error(exc, action="pulling Bad/Name:1", reference="Bad/Name:1")
    check(err)
    assert err.kind == "config"
    assert err.sentence.startswith("Bad/Name:1 is not a valid image reference")
    assert "repository name must be lowercase" in err.sentence


def test_stream_error_without_a_response() -> None:
    # A pull stream's {"error": ...} item, turned into an APIError with no HTTP status.
    exc = docker.errors.APIError("unauthorized: authentication required",
                                 explanation="unauthorized: authentication required")
    assert pull_error(exc).kind == "auth"


def test_registry_is_derived_from_the_reference() -> None:
    assert registry_of("127.0.0.1:5000/a/b:1") == "127.0.0.1:5000"
    assert registry_of("localhost/a") == "localhost"
    assert registry_of("registry.example.com/a@sha256:00") == "registry.example.com"
    assert registry_of("busybox:1") == "docker.io"
    assert registry_of("someone/app:1") == "docker.io"


# --- the engine's own refusals (messages as engine 20.10 words them) ---------------------


@pytest.mark.parametrize(
    ("explanation", "status", "kind", "sentence"),
    [
        (
            "failed to create shim task: OCI runtime create failed: runc create failed: unable "
            "to start container process: unable to apply caps: operation not permitted: unknown",
            500,
            "config",
            "the engine refused to start a privileged container: this host does not allow all "
            "capabilities; turn off Privileged Mode",
        ),
        (
            "driver failed programming external connectivity on endpoint moorings-test-p2 "
            "(b65db2f476ac00b915a8f924439e9ca224ad255490243e839c292811344b9de7): Bind for "
            "127.0.0.1:18765 failed: port is already allocated",
            500,
            "conflict",
            "port 127.0.0.1:18765 is already in use on this host; choose other External Ports "
            "or stop what uses it",
        ),
        (
            "Unknown runtime specified nosuchrt",
            400,
            "config",
            "the engine has no runtime named nosuchrt; check Runtime",
        ),
        (
            "network nosuchnet not found",
            404,
            "not-found",
            "the engine has no network named nosuchnet; check Networking Mode",
        ),
        (
            'error looking up logging plugin nosuchdriver: plugin "nosuchdriver" not found',
            400,
            "config",
            "the engine has no log driver named nosuchdriver; check Logger Type",
        ),
        (
            "No such image: moorings-test/nosuch:9",
            404,
            "not-found",
            "the image moorings-test/nosuch:9 is not on this host; pull it first, or check "
            "Image name and Image tag",
        ),
        (
            'Conflict. The container name "/web" is already in use by container '
            '"3be856e75e3258483ce2a332eb59750bca10be8825a23155955beb2379c6446e". You have to '
            "remove (or rename) that container to be able to reuse that name.",
            409,
            "conflict",
            "a container named web already exists; remove or rename it first",
        ),
        (
            "client version 1.45 is too new. Maximum supported API version is 1.41",
            400,
            "version",
            "the Docker engine does not speak API version 1.45 (its maximum is 1.41); "
            "leave the API version to be negotiated",
        ),
    ],
)
def test_engine_refusals(explanation: str, status: int, kind: str, sentence: str) -> None:
    err = engine_error(api_error(status, explanation), action="starting container web")
    check(err)
    assert (err.kind, err.sentence) == (kind, sentence)
    assert explain(api_error(status, explanation), action="starting container web") == sentence


def test_fallback_keeps_the_engine_words_without_json_or_long_ids() -> None:
    body = (
        '{"message":"cannot remove container '
        'c0ffee0000000000000000000000000000000000000000000000000000000000: it is '
        'paused"}'
    )
    err = engine_error(api_error(409, body), action="removing container web")
    check(err)
    assert err.kind == "engine"
    assert err.sentence == (
        "removing container web failed: cannot remove container c0ffee000000: it is paused"
    )


def test_fallback_is_short() -> None:
    err = engine_error(api_error(500, "x" * 1000), action="doing it")
    assert err.sentence.startswith("doing it failed: xxx")
    assert len(err.sentence) < 200


def test_fallback_without_any_text() -> None:
    err = engine_error(api_error(500, ""), action="doing it")
    assert err.sentence == "doing it failed: HTTP 500 Error"


# --- our side of the engine socket -------------------------------------------------------


def connection_error(cause: OSError) -> requests.exceptions.ConnectionError:
    """What requests raises when the engine's unix socket cannot be used."""
    protocol = urllib3.exceptions.ProtocolError("Connection aborted.", cause)
    return requests.exceptions.ConnectionError(protocol)


def test_engine_socket_missing() -> None:
    exc = connection_error(FileNotFoundError(2, "No such file or directory"))
    err = engine_error(exc, action="listing containers", engine="unix:///var/run/docker.sock")
    check(err)
    assert err.kind == "unreachable"
    assert err.sentence == (
        "the Docker engine at unix:///var/run/docker.sock is not running: its socket does not "
        "exist; start the engine or check Docker Host URL"
    )


def test_engine_socket_missing_while_negotiating_the_version() -> None:
    # docker.APIClient(version="auto") wraps the failure, chained with "from".
    try:
        try:
            raise connection_error(FileNotFoundError(2, "No such file or directory"))
        except requests.exceptions.ConnectionError as inner:
            raise docker.errors.DockerException(
                f"Error while fetching server API version: {inner}"
            ) from inner
    except docker.errors.DockerException as e:
        err = engine_error(e, action="connecting")
    check(err)
    assert err.kind == "unreachable"
    assert "socket does not exist" in err.sentence


def test_engine_failure_known_only_as_text() -> None:
    exc = docker.errors.DockerException(
        "Error while fetching server API version: ('Connection aborted.', "
        "PermissionError(13, 'Permission denied'))"
    )
    err = engine_error(exc, action="connecting", engine="unix:///run/docker.sock")
    check(err)
    assert err.kind == "unreachable"
    assert "permission denied" in err.sentence
    assert "unix:///run/docker.sock" in err.sentence


def test_engine_socket_permission_denied() -> None:
    err = engine_error(connection_error(PermissionError(13, "Permission denied")), action="x")
    check(err)
    assert err.kind == "unreachable"
    assert err.sentence.startswith("this user may not use the Docker engine (permission denied")


def test_engine_tcp_refused_names_the_host_from_the_exception() -> None:
    pool = urllib3.HTTPConnectionPool("10.0.0.7", 2375)
    conn = SimpleNamespace(host="10.0.0.7", port=2375)
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as refused:
            raise urllib3.exceptions.NewConnectionError(
                conn,  # type: ignore[arg-type]
                "Failed to establish a new connection: [Errno 111] Connection refused"
            ) from refused
    except urllib3.exceptions.NewConnectionError as new:
        retry = urllib3.exceptions.MaxRetryError(pool, "/v1.41/_ping", new)
        exc = requests.exceptions.ConnectionError(retry)
    err = engine_error(exc, action="listing containers")
    check(err)
    assert err.kind == "unreachable"
    assert err.sentence == (
        "the Docker engine at tcp://10.0.0.7:2375 refused the connection; check that it is "
        "running and Docker Host URL"
    )


def test_engine_host_unknown() -> None:
    exc = requests.exceptions.ConnectionError(socket.gaierror(-2, "Name or service not known"))
    err = engine_error(exc, action="x", engine="tcp://gw.invalid:2376")
    check(err)
    assert err.sentence == (
        "the host of the Docker engine at tcp://gw.invalid:2376 cannot be found; check Docker "
        "Host URL"
    )


def test_engine_closed_the_connection() -> None:
    exc = connection_error(ConnectionResetError(104, "Connection reset by peer"))
    err = engine_error(exc, action="starting container web")
    check(err)
    assert err.kind == "unreachable"
    assert "closed the connection during starting container web" in err.sentence


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ReadTimeout("Read timed out. (read timeout=60)"),
        requests.exceptions.ConnectionError(
            urllib3.exceptions.ReadTimeoutError(None, "/x", "Read timed out.")  # type: ignore[arg-type]
        ),
        TimeoutError("timed out"),
        OSError("wrapped", TimeoutError("timed out")),
    ],
)
def test_timeouts(exc: BaseException) -> None:
    err = engine_error(exc, action="stopping container web", engine="unix:///var/run/docker.sock")
    check(err)
    assert err.kind == "deadline"
    assert err.sentence == (
        "stopping container web got no answer from the Docker engine at "
        "unix:///var/run/docker.sock in time"
    )


def test_tls_certificate_rejected() -> None:
    cert_error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cert_error.verify_message = "self-signed certificate"
    exc = requests.exceptions.SSLError(urllib3.exceptions.SSLError(cert_error))
    err = engine_error(exc, action="connecting", engine="tcp://gw:2376")
    check(err)
    assert err.kind == "tls"
    assert err.sentence.startswith(
        "the secure connection to the Docker engine at tcp://gw:2376 failed (certificate verify "
        "failed: self-signed certificate)"
    )
    assert "TLS CA Certificate" in err.sentence


def test_tls_settings_incomplete() -> None:
    exc = docker.errors.TLSParameterError("Path to a certificate and key files must be provided")
    err = engine_error(exc, action="connecting")
    check(err)
    assert err.kind == "tls"
    assert "TLS Client Certificate" in err.sentence


def test_unknown_exception_falls_back_to_its_message() -> None:
    err = engine_error(RuntimeError("something odd\n  happened"), action="pulling x")
    check(err)
    assert err.kind == "engine"
    assert err.sentence == "pulling x failed: something odd happened"


def test_engine_error_passes_through() -> None:
    original = EngineError("already a sentence", "conflict")
    assert engine_error(original, action="x") is original
    assert str(original) == original.sentence == "already a sentence"


@pytest.mark.parametrize(
    ("explanation", "broke"),
    [
        ("read tcp 127.0.0.1:53918->127.0.0.1:5000: read: connection reset by peer",
         "reset the connection"),
        ("unexpected EOF", "closed the connection"),
    ],
)
def test_a_download_that_broke_off_is_not_an_unreachable_registry(
        explanation: str, broke: str) -> None:
    # What the engine reports once its own retries of a layer download are used up.
    err = pull_error(api_error(500, explanation))
    assert err.kind == "unreachable"
    assert err.sentence == (
        f"registry {REG} {broke} in the middle of {PULL}; check the network between the "
        "engine's host and the registry, and the registry")

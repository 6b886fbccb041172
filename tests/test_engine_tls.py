"""tcp:// engines: TLS stays TLS, a mismatch gets its own sentence, one warning when unsafe."""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker.errors
import pytest
from endpoints import TlsEndpoint, TlsProxy, unix_socket_path
from harness import ROOT, TestEnv
from loopback_servers import PlainEngineProxy
from moorings_process import MooringsProcess

from app.config.model import Scalar
from app.engine.errors import explain
from app.engine.hosts import EngineTarget
from app.metatype import SERVICE_PID, load_catalog

SERVICE = load_catalog().by_pid(SERVICE_PID)
GW = "tcp://gw.example:2376"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING ")


# --- which connections are unsafe, and how ----------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (EngineTarget(url="unix:///var/run/docker.sock"), None),
        (EngineTarget(url="ssh://tech@gw.example"), None),
        (EngineTarget(url=GW, ca_cert="ca.pem", client_cert="c.pem", client_key="k.pem"), None),
        (EngineTarget(url=GW), f"{GW} is a plain TCP connection without TLS: anyone on that "
         "network can read it and control this engine, which is root on the gateway."),
        (EngineTarget(url=GW, ca_cert="ca.pem"), f"{GW} uses TLS without a client certificate: "
         "unless the engine demands one from every client, anyone on that network can control "
         "it, which is root on the gateway."),
        (EngineTarget(url=GW, tls=True), f"{GW} uses TLS without a client certificate"),
        (EngineTarget(url=GW, verify=False, client_cert="c.pem", client_key="k.pem"),
         f"TLS verification is off for {GW}: the engine's certificate is not checked, so a "
         "machine on the network can pose as the engine and read what Moorings sends it, "
         "registry passwords included."),
        (EngineTarget(url=GW, verify=False, ca_cert="ca.pem"),
         f"TLS verification is off for {GW} and there is no client certificate: a machine on "
         "the network can pose as the engine"),
        (EngineTarget(url=GW, verify=False),
         f"TLS verification is off for {GW} and there is no client certificate"),
    ],
)
def test_security_warning(target: EngineTarget, expected: str | None) -> None:
    warning = target.security_warning()
    if expected is None:
        assert warning is None
    else:
        assert warning is not None
        assert warning.startswith(expected)
        assert "\n" not in warning


@pytest.mark.parametrize(
    ("target", "tls"),
    [
        (EngineTarget(url=GW), False),
        (EngineTarget(url=GW, tls=True), True),
        (EngineTarget(url=GW, verify=False), True),  # nothing to skip verifying without TLS
        (EngineTarget(url=GW, ca_cert="ca.pem"), True),
        (EngineTarget(url=GW, client_key="k.pem"), True),
        (EngineTarget(url="unix:///run/docker.sock", ca_cert="ca.pem", verify=False), False),
        (EngineTarget(url="ssh://gw.example", tls=True), False),
    ],
)
def test_when_tls_is_used(target: EngineTarget, tls: bool) -> None:
    assert target.uses_tls is tls
    if not tls:
        assert target.tls_config() is None


def test_use_tls_is_a_field_of_the_service() -> None:
    field = SERVICE.find_by_role("tls-enabled")
    assert field is not None
    assert field.id == "tls.enabled"
    values: dict[str, Scalar] = {"container.engine.host": GW, "tls.enabled": True}
    assert EngineTarget.from_values(SERVICE, values) == EngineTarget(url=GW, tls=True)
    assert EngineTarget.from_values(SERVICE, {"container.engine.host": GW}) == \
        EngineTarget(url=GW)


# --- against the engine -------------------------------------------------------------------------


def connect_error(target: EngineTarget) -> str:
    with pytest.raises(docker.errors.DockerException) as info:
        target.api_client(timeout=10)
    return explain(info.value, action=f"connecting to the engine at {target.url}")


@pytest.fixture
def plain_engine(test_env: TestEnv) -> Iterator[PlainEngineProxy]:
    with PlainEngineProxy(unix_socket_path(test_env.docker_host)) as proxy:
        yield proxy  # type: ignore[misc]


@pytest.fixture
def open_tls(tls_endpoint: TlsEndpoint, test_env: TestEnv) -> Iterator[str]:
    """``tcp://`` with TLS that lets any client in (dockerd --tls without --tlsverify)."""
    proxy = TlsProxy(tls_endpoint.files, unix_socket_path(test_env.docker_host),
                     require_client_cert=False)
    proxy.start()
    try:
        yield f"tcp://127.0.0.1:{proxy.port}"
    finally:
        proxy.stop()


@pytest.mark.engine
def test_verify_off_without_certificates_still_speaks_tls(tls_endpoint: TlsEndpoint) -> None:
    before = len(tls_endpoint.proxy.refusals)
    sentence = connect_error(EngineTarget(url=tls_endpoint.url, verify=False))
    assert sentence == (
        f"the Docker engine at {tls_endpoint.url} demands a client certificate and none was "
        "sent; fill in TLS Client Certificate and TLS Client Key")
    refusals = tls_endpoint.proxy.refusals[before:]
    assert refusals
    assert not any("HTTP_REQUEST" in r for r in refusals)  # a TLS handshake, not plain HTTP


@pytest.mark.engine
@pytest.mark.parametrize("how", ["ca", "use-tls", "verify-off"])
def test_tls_without_a_client_certificate_connects_over_tls(
        open_tls: str, tls_endpoint: TlsEndpoint, monkeypatch: pytest.MonkeyPatch,
        how: str) -> None:
    if how == "ca":
        target = EngineTarget(url=open_tls, ca_cert=str(tls_endpoint.ca))
    elif how == "use-tls":
        # Verified against this computer's trusted authorities, here the bundle requests uses.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_endpoint.ca))
        target = EngineTarget(url=open_tls, tls=True)
    else:
        target = EngineTarget(url=open_tls, verify=False)
    api = target.api_client(timeout=10)
    try:
        assert api.ping()
        assert api.base_url.startswith("https://")
    finally:
        api.close()


@pytest.mark.engine
def test_plain_http_to_a_tls_port_says_the_port_speaks_tls(tls_endpoint: TlsEndpoint) -> None:
    sentence = connect_error(EngineTarget(url=tls_endpoint.url))
    assert sentence == (
        f"the Docker engine at {tls_endpoint.url} speaks TLS on that port, but this connection "
        "was plain HTTP; turn Use TLS on and fill in TLS CA Certificate (and TLS Client "
        "Certificate and Key if the engine demands them)")


@pytest.mark.engine
def test_tls_to_a_plain_port_says_the_port_is_not_tls(
        plain_engine: PlainEngineProxy, tls_endpoint: TlsEndpoint) -> None:
    sentence = connect_error(EngineTarget(url=plain_engine.url, ca_cert=str(tls_endpoint.ca),
                                          client_cert=str(tls_endpoint.cert),
                                          client_key=str(tls_endpoint.key)))
    assert sentence.startswith(
        f"the Docker engine at {plain_engine.url} did not answer in TLS: that port is not a TLS "
        "port (a plain tcp:// engine answers in plain HTTP)")


@pytest.mark.engine
def test_a_plain_tcp_engine_is_warned_about_once(
        plain_engine: PlainEngineProxy, caplog: pytest.LogCaptureFixture) -> None:
    target = EngineTarget(url=plain_engine.url)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            api = target.api_client(timeout=10)
            try:
                assert api.ping()
            finally:
                api.close()
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warned] == [target.security_warning()]


@pytest.mark.engine
@pytest.mark.parametrize("case", ["plain", "verify-off"])
def test_headless_logs_one_warning_in_the_log_format_and_nothing_raw(
        tmp_path: Path, plain_engine: PlainEngineProxy, tls_endpoint: TlsEndpoint,
        case: str) -> None:
    if case == "plain":
        service: dict[str, object] = {"container.engine.host": plain_engine.url}
        expected = EngineTarget(url=plain_engine.url).security_warning()
    else:
        service = {"container.engine.host": tls_endpoint.url, "tls.verify": False,
                   "tls.client.cert": str(tls_endpoint.cert),
                   "tls.client.key": str(tls_endpoint.key)}
        expected = EngineTarget(url=tls_endpoint.url, verify=False,
                                client_cert=str(tls_endpoint.cert),
                                client_key=str(tls_endpoint.key)).security_warning()
    cfg = tmp_path / "cfg"
    source = tmp_path / "import.json"
    source.write_text(json.dumps({"service": service, "instances": {}}), encoding="utf-8")
    imported = subprocess.run(
        [sys.executable, "-m", "app", "--config-dir", str(cfg), "config", "import", str(source)],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert imported.returncode == 0, imported.stderr
    run = MooringsProcess(cfg, "--headless")
    try:
        run.wait_for("engine: connected to")
        # The event stream, the first pass and a ping: several requests went out by now.
        run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(timeout=30) == 0, run.text()
    finally:
        run.close()
    lines = run.text().splitlines()
    warned = [line for line in lines if expected is not None and expected in line]
    assert len(warned) == 1, run.text()
    assert LOG_LINE.match(warned[0]), warned[0]
    assert "InsecureRequestWarning" not in run.text()
    assert "warnings.warn" not in run.text()

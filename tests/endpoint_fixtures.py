"""Session fixtures: the test engine over TLS (``tls_endpoint``) and SSH (``ssh_endpoint``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from endpoints import SSHD, SshEndpoint, TlsEndpoint, start_tls_endpoint
from harness import TestEnv


def _missing(what: str) -> None:
    """Skip locally, fail in CI, as ``test_env`` does for a missing engine."""
    message = f"needs {what}: run scripts/bootstrap.sh"
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def tls_endpoint(test_env: TestEnv) -> Iterator[TlsEndpoint]:
    """``tcp://127.0.0.1:<port>``: a TLS proxy to the test engine that demands a client
    certificate. Attributes: ``url``, ``ca``, ``cert``, ``key`` and ``wrong_ca`` (an
    unrelated CA that did not sign the server's certificate)."""
    if shutil.which("openssl") is None:
        _missing("openssl")
    folder = Path(tempfile.mkdtemp(prefix="moorings-test-tls-"))
    try:
        endpoint = start_tls_endpoint(folder, test_env.docker_host)
        try:
            yield endpoint
        finally:
            endpoint.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def ssh_endpoint(test_env: TestEnv) -> Iterator[SshEndpoint]:
    """``ssh://root@127.0.0.1:<port>``: a private sshd whose sessions reach the test engine.
    Use an ``ssh://`` client only inside ``with ssh_endpoint.client_env():`` (docker-py runs
    ``ssh`` for every new connection; that context makes it use the generated key and the
    pinned host key, leaving ``~/.ssh`` alone)."""
    if not os.access(SSHD, os.X_OK) or shutil.which("ssh") is None:
        _missing(f"{SSHD} and ssh (openssh-server, openssh-client)")
    folder = Path(tempfile.mkdtemp(prefix="moorings-test-ssh-"))
    endpoint = SshEndpoint(folder, test_env.docker_host)
    try:
        yield endpoint.start()
    finally:
        endpoint.stop()
        shutil.rmtree(folder, ignore_errors=True)

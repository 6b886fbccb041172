"""Where the engine is: the Docker host URL and TLS settings, turned into SDK clients."""

from __future__ import annotations

import logging
import os
import re
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import docker
import docker.constants
import docker.errors
import docker.tls
import docker.utils
import urllib3.exceptions

from app import threadguard as guard
from app.config.model import Scalar
from app.engine import ssh
from app.metatype import ComponentDescriptor
from app.redact import mask_address

DEFAULT_HOST = "unix:///var/run/docker.sock"
log = logging.getLogger(__name__)


class _EngineAPIClient(docker.APIClient):  # type: ignore[misc]
    """An APIClient that knows the address it was given (``engine_url``), closes itself when
    it cannot be built, reaches ``ssh://`` engines through :mod:`app.engine.ssh`, and whose
    own TLS CA wins over ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``."""

    _custom_adapter: Any

    def __init__(self, engine_url: str, **kwargs: Any) -> None:
        self.engine_url = engine_url
        over_ssh = engine_url.startswith("ssh://")
        version = kwargs.get("version")
        negotiate = over_ssh and (version is None or str(version).lower() == "auto")
        if over_ssh:
            # docker-py's own ssh transport reads a pipe with no timeout and leaves its ssh
            # processes behind; build the client without talking, then swap the transport.
            if negotiate:
                kwargs["version"] = docker.constants.DEFAULT_DOCKER_API_VERSION
            kwargs["use_ssh_client"] = True
        super().__init__(**kwargs)
        if not over_ssh:
            return
        replaced = self._custom_adapter
        self._custom_adapter = ssh.SshAdapter(
            engine_url, kwargs.get("timeout", docker.constants.DEFAULT_TIMEOUT_SECONDS),
            max_pool_size=docker.constants.DEFAULT_MAX_POOL_SIZE,
            pool_connections=docker.constants.DEFAULT_NUM_POOLS_SSH)
        self.mount("http+docker://ssh", self._custom_adapter)
        replaced.close()
        if negotiate:
            self._version = self._retrieve_server_version()
            if docker.utils.version_lt(self._version, docker.constants.MINIMUM_DOCKER_API_VERSION):
                self.close()
                raise docker.errors.InvalidVersion(
                    f"API versions below {docker.constants.MINIMUM_DOCKER_API_VERSION} are no "
                    "longer supported by this library.")

    def _retrieve_server_version(self) -> str:
        # A client that cannot be built is never returned, so nobody else could close it
        # (and end its ssh process).
        try:
            version: str = super()._retrieve_server_version()
        except BaseException:
            self.close()
            raise
        return version

    def merge_environment_settings(self, url: object, proxies: object, stream: object,
                                   verify: object, cert: object) -> dict[str, object]:
        # requests lets those variables replace a session's ``verify`` on every request
        # (psf/requests#3829): with either set, as on many managed machines, the engine's CA
        # file would be ignored and its certificate rejected. Per-request ``verify`` wins.
        if verify is None:
            verify = self.verify
        result: dict[str, object] = super().merge_environment_settings(
            url, proxies, stream, verify, cert)
        return result


@dataclass(frozen=True)
class EngineTarget:
    """How to reach one engine. Building a client talks to the engine (version negotiation)."""

    url: str = DEFAULT_HOST
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    verify: bool = True
    tls: bool = False  # TLS asked for even without any certificate (Use TLS)

    @classmethod
    def from_values(cls, component: ComponentDescriptor,
                    values: Mapping[str, Scalar]) -> EngineTarget:
        def text(role: str) -> str | None:
            desc = component.find_by_role(role)
            if desc is None:
                return None
            value = str(values.get(desc.id, "") or "").strip()
            return os.path.expanduser(value) if value else None

        def flag(role: str, default: bool) -> bool:
            desc = component.find_by_role(role)
            return bool(values.get(desc.id, default)) if desc else default

        return cls(url=text("engine-host") or DEFAULT_HOST, ca_cert=text("tls-ca"),
                   client_cert=text("tls-cert"), client_key=text("tls-key"),
                   verify=flag("tls-verify", True), tls=flag("tls-enabled", False))

    @property
    def uses_tls(self) -> bool:
        """Whether a tcp:// engine is reached over TLS: when Use TLS is on, when any
        certificate or key is given, or when verification is turned off (there is nothing
        to verify without TLS: turning it off says the engine speaks TLS)."""
        if not self.url.startswith("tcp://"):
            return False
        return self.tls or bool(self.ca_cert or self.client_cert or self.client_key) \
            or not self.verify

    def security_warning(self) -> str | None:
        """A sentence for the form, the header and the log when this connection is unsafe."""
        shown = mask_address(self.url)
        if not self.url.startswith("tcp://"):
            return None  # a local socket, or ssh (which checks the host key and the login)
        if not self.uses_tls:
            return (f"{shown} is a plain TCP connection without TLS: anyone on that network "
                    "can read it and control this engine, which is root on the gateway. Use TLS "
                    "with a CA and a client certificate, or ssh://.")
        client = bool(self.client_cert and self.client_key)
        if not self.verify and not client:
            return (f"TLS verification is off for {shown} and there is no client "
                    "certificate: a machine on the network can pose as the engine and read what "
                    "Moorings sends it, registry passwords included, and unless the engine "
                    "demands client certificates anyone can control it, which is root on the "
                    "gateway. Turn Verify Engine Certificate on and give this client a "
                    "certificate and key.")
        if not self.verify:
            return (f"TLS verification is off for {shown}: the engine's certificate is not "
                    "checked, so a machine on the network can pose as the engine and read what "
                    "Moorings sends it, registry passwords included. Turn Verify Engine "
                    "Certificate on.")
        if not client:
            return (f"{shown} uses TLS without a client certificate: unless the engine "
                    "demands one from every client, anyone on that network can control it, "
                    "which is root on the gateway. Give this client a certificate and key.")
        return None

    def tls_config(self) -> docker.tls.TLSConfig | None:
        if not self.uses_tls:
            return None
        cert: tuple[str | None, str | None] | None = None
        if self.client_cert or self.client_key:
            # Only one of the two: docker-py refuses, and errors.py says which fields to fill.
            cert = (self.client_cert, self.client_key)
        verify: bool | str = self.ca_cert if (self.verify and self.ca_cert) else self.verify
        return docker.tls.TLSConfig(client_cert=cert, ca_cert=self.ca_cert, verify=verify)

    def api_client(self, timeout: float | None = 60.0) -> docker.APIClient:
        """A new low-level client; ``timeout`` bounds each socket read (None: no bound)."""
        guard.check()
        _announce(self)
        kwargs: dict[str, object] = {"base_url": self.url, "version": "auto"}
        if timeout is not None:
            kwargs["timeout"] = timeout
        else:
            # docker-py has no "no timeout" value of its own; a week is forever for a stream.
            kwargs["timeout"] = 7 * 24 * 3600
        tls = self.tls_config()
        if tls is not None:
            kwargs["tls"] = tls
        # ssh:// goes through the system ssh client (app.engine.ssh): keys, agents and
        # ~/.ssh/config work as the engineer expects.
        return _EngineAPIClient(self.url, **kwargs)

    def ssh_children(self) -> list[int]:
        """The process ids of the ssh clients running for this engine (none unless ssh://)."""
        return ssh.live_children(self.url) if self.url.startswith("ssh://") else []

    def end_ssh_children(self) -> None:
        """End every ssh client Moorings started for this engine, whoever is using it."""
        if self.url.startswith("ssh://"):
            ssh.end_children(self.url)


_announced_lock = threading.Lock()
_announced: set[EngineTarget] = set()


def _announce(target: EngineTarget) -> None:
    """Log the target's security warning once per process, and keep urllib3 from printing
    its own ``InsecureRequestWarning`` for the same fact on every request, outside the log."""
    warning = target.security_warning()
    if warning is None:
        return
    with _announced_lock:
        if target in _announced:
            return
        _announced.add(target)
    log.warning("%s", warning)
    host = urlsplit(target.url).hostname
    if target.uses_tls and not target.verify and host:
        warnings.filterwarnings(
            "ignore", category=urllib3.exceptions.InsecureRequestWarning,
            message=rf"Unverified HTTPS request is being made to host '{re.escape(host)}'")

"""Where the engine is: the Docker host URL and TLS settings, turned into SDK clients."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import docker
import docker.tls

from app import threadguard as guard
from app.config.model import Scalar
from app.fields.credentials import mask_address
from app.metatype import ComponentDescriptor

DEFAULT_HOST = "unix:///var/run/docker.sock"


class _EngineAPIClient(docker.APIClient):  # type: ignore[misc]
    """An APIClient whose own TLS CA wins over ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``.

    requests lets those variables replace a session's ``verify`` on every request
    (psf/requests#3829): with either set, as on many managed machines, the engine's CA file
    would be ignored and its certificate rejected. Per-request ``verify`` beats them."""

    def merge_environment_settings(self, url: object, proxies: object, stream: object,
                                   verify: object, cert: object) -> dict[str, object]:
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

    @classmethod
    def from_values(cls, component: ComponentDescriptor,
                    values: Mapping[str, Scalar]) -> EngineTarget:
        def text(role: str) -> str | None:
            desc = component.find_by_role(role)
            if desc is None:
                return None
            value = str(values.get(desc.id, "") or "").strip()
            return os.path.expanduser(value) if value else None

        verify_desc = component.find_by_role("tls-verify")
        verify = bool(values.get(verify_desc.id, True)) if verify_desc else True
        return cls(url=text("engine-host") or DEFAULT_HOST, ca_cert=text("tls-ca"),
                   client_cert=text("tls-cert"), client_key=text("tls-key"), verify=verify)

    @property
    def uses_tls(self) -> bool:
        return self.url.startswith("tcp://") and bool(self.ca_cert or self.client_cert)

    def security_warning(self) -> str | None:
        """A sentence for the form, the header and the log when this connection is unsafe."""
        shown = mask_address(self.url)
        if self.url.startswith("tcp://") and not self.uses_tls:
            return (f"{shown} is a plain TCP connection without TLS: anyone on that network "
                    "can control this engine, which is root on the gateway. Use TLS with a CA "
                    "and client certificate, or ssh://.")
        if self.uses_tls and not self.verify:
            return (f"TLS verification is off for {shown}: the engine's certificate is not "
                    "checked, so a machine in between can pose as the engine. Turn Verify on.")
        return None

    def tls_config(self) -> docker.tls.TLSConfig | None:
        if not self.uses_tls:
            return None
        cert = (self.client_cert, self.client_key) if self.client_cert and self.client_key \
            else None
        verify: bool | str = self.ca_cert if (self.verify and self.ca_cert) else self.verify
        return docker.tls.TLSConfig(client_cert=cert, ca_cert=self.ca_cert, verify=verify)

    def api_client(self, timeout: float | None = 60.0) -> docker.APIClient:
        """A new low-level client; ``timeout`` bounds each socket read (None: no bound)."""
        guard.check()
        kwargs: dict[str, object] = {"base_url": self.url, "version": "auto"}
        if timeout is not None:
            kwargs["timeout"] = timeout
        else:
            # docker-py has no "no timeout" value of its own; a week is forever for a stream.
            kwargs["timeout"] = 7 * 24 * 3600
        tls = self.tls_config()
        if tls is not None:
            kwargs["tls"] = tls
        if self.url.startswith("ssh://"):
            # The system ssh client: keys, agents and ~/.ssh/config work as the engineer
            # expects, and no extra Python dependency is needed.
            kwargs["use_ssh_client"] = True
        return _EngineAPIClient(**kwargs)

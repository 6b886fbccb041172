"""The cloud connection's settings, read from its component's values by role: where the broker
is, who this gateway is on it, and what is unsafe about it (said in the form and the log)."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.config.model import Scalar
from app.errors import SyntaxProblem
from app.fields.mqtt import BrokerAddress, kura_client_id, parse_broker_url
from app.metatype import ComponentDescriptor
from app.redact import mask_address
from app.remote.topics import Identity

CLOUD_PID = "io.moorings.remote.CloudConnection"
log = logging.getLogger(__name__)


def machine_client_id() -> str:
    """Kura's default client id: this machine's network (MAC) address, ``AA:BB:CC:DD:EE:FF``."""
    node = uuid.getnode()
    mac = ":".join(f"{(node >> s) & 0xFF:02X}" for s in range(40, -8, -8))
    return kura_client_id(mac)


@dataclass(frozen=True)
class CloudSettings:
    enabled: bool = False
    url: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    client_id: str = ""
    account: str = "account-name"
    prefix: str = "$EDC"
    keep_alive_s: int = 30
    retry_interval_s: int = 60
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    verify: bool = True
    gzip: bool = True

    @classmethod
    def from_values(cls, component: ComponentDescriptor,
                    values: Mapping[str, Scalar]) -> CloudSettings:
        def raw(role: str, default: Scalar) -> Scalar:
            desc = component.find_by_role(role)
            return values.get(desc.id, default) if desc is not None else default

        def text(role: str) -> str:
            return str(raw(role, "") or "").strip()

        def path(role: str) -> str | None:
            value = text(role)
            return os.path.expanduser(value) if value else None

        def number(role: str, default: int) -> int:
            value = raw(role, default)
            return int(value) if isinstance(value, (int, float)) and not isinstance(
                value, bool) else default

        return cls(enabled=raw("enabled", False) is True, url=text("broker-url"),
                   username=text("username"), password=str(raw("password", "") or ""),
                   client_id=text("client-id") or machine_client_id(),
                   account=text("account") or "account-name",
                   prefix=text("control-prefix") or "$EDC",
                   keep_alive_s=number("keep-alive-s", 30),
                   retry_interval_s=number("retry-interval-s", 60),
                   ca_cert=path("tls-ca"), client_cert=path("tls-cert"),
                   client_key=path("tls-key"), verify=raw("tls-verify", True) is not False,
                   gzip=raw("gzip", True) is not False)

    @property
    def identity(self) -> Identity:
        return Identity(self.prefix, self.account, self.client_id)

    @property
    def shown_url(self) -> str:
        return mask_address(self.url)

    def address(self) -> BrokerAddress:
        """The parsed broker URL; raises SyntaxProblem with a sentence."""
        if not self.url:
            raise SyntaxProblem("no Broker URL is set; expected mqtts://HOST[:PORT]")
        return parse_broker_url(self.url)

    @property
    def uses_tls(self) -> bool:
        try:
            return self.address().tls
        except SyntaxProblem:
            return False

    def security_warning(self) -> str | None:
        """A sentence for the form and the log when this connection is unsafe, or None."""
        if not self.url:
            return None
        if not self.uses_tls:
            if self.password:
                return (f"{self.shown_url} is a plain MQTT connection without TLS, with a "
                        "password: anyone on that network can read the broker password and "
                        "every configuration sent over it, container registry passwords "
                        "included, and pose as the broker. Use mqtts://.")
            return (f"{self.shown_url} is a plain MQTT connection without TLS: anyone on that "
                    "network can read every configuration sent over it, container registry "
                    "passwords included, and pose as the broker. Use mqtts://.")
        if not self.verify:
            return (f"TLS verification is off for {self.shown_url}: the broker's certificate "
                    "is not checked, so a machine on the network can pose as the broker, read "
                    "the broker password and manage this gateway. Turn Verify Broker "
                    "Certificate on.")
        return None


_announced_lock = threading.Lock()
_announced: set[CloudSettings] = set()


def announce(settings: CloudSettings) -> None:
    """Log the settings' security warning once per process (as the engine's is)."""
    warning = settings.security_warning()
    if warning is None:
        return
    with _announced_lock:
        if settings in _announced:
            return
        _announced.add(settings)
    log.warning("%s", warning)

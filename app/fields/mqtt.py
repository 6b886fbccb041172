"""The cloud connection's values: the broker URL, the MQTT client id and topic segments."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.errors import SyntaxProblem
from app.redact import mask_address, split_userinfo

BROKER_FORMS = "mqtts://HOST[:PORT] (TLS, port 8883 by default) or mqtt://HOST[:PORT] (1883)"
DEFAULT_PORTS = {"mqtts": 8883, "mqtt": 1883, "ssl": 8883, "tcp": 1883}
# Kura's rule for a client id taken from the machine (MqttDataTransport): these become '-'.
_KURA_REPLACED = re.compile(r"[/+#.]")
# A topic segment cannot hold the separator or a wildcard, nor be empty.
_BAD_SEGMENT = re.compile(r"[/+#\x00]")
MAX_CLIENT_ID = 128
_HOST_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9_-]*[a-zA-Z0-9])?"
_HOST = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*", re.ASCII)


@dataclass(frozen=True)
class BrokerAddress:
    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme in ("mqtts", "ssl")


def parse_broker_url(text: str) -> BrokerAddress:
    """``mqtts://HOST[:PORT]`` or ``mqtt://HOST[:PORT]`` (Kura's ``ssl://``/``tcp://`` too), with
    no user name or password in it (they have their own fields)."""
    url = text.strip().rstrip("/")
    if split_userinfo(url)[1] is not None:
        raise SyntaxProblem(f"{mask_address(url)} carries a user name or password; expected "
                            f"{BROKER_FORMS}, with them in Username and Password")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in DEFAULT_PORTS:
        shown = url or "the empty text"
        raise SyntaxProblem(f"{shown} is not a broker address; expected {BROKER_FORMS}, such "
                            "as mqtts://broker.example.com:8883")
    host, port = rest, DEFAULT_PORTS[scheme]
    if rest.startswith("["):
        end = rest.find("]")
        host, tail = (rest[1:end], rest[end + 1:]) if end > 0 else (rest, "")
        if tail.startswith(":") and tail[1:].isdigit():
            port = int(tail[1:])
        elif tail:
            host = ""
    elif ":" in rest:
        host, _, port_text = rest.rpartition(":")
        port = int(port_text) if port_text.isdigit() else -1
    if not host or not (_HOST.fullmatch(host) or ":" in host) or not 0 < port < 65536:
        raise SyntaxProblem(f"{url} is not a broker address; expected {BROKER_FORMS}, such as "
                            "mqtts://broker.example.com:8883")
    return BrokerAddress(scheme, host, port)


def parse_broker_url_or_empty(text: str) -> BrokerAddress | None:
    return parse_broker_url(text) if text.strip() else None


def parse_client_id(text: str) -> str:
    """An MQTT client id that is also one topic segment (empty: derived from the machine)."""
    value = text.strip()
    if not value:
        return value
    if len(value) > MAX_CLIENT_ID or _BAD_SEGMENT.search(value) or not value.isprintable():
        raise SyntaxProblem(f"{value[:60]} is not a client id; expected up to {MAX_CLIENT_ID} "
                            "printable characters without /, + or #, such as gateway-17")
    return value


def parse_topic_segment(text: str) -> str:
    value = text.strip()
    if not value or _BAD_SEGMENT.search(value) or not value.isprintable():
        raise SyntaxProblem(f"{value[:60] or 'the empty text'} is not one topic level; "
                            "expected text without /, + or #, such as acme or $EDC")
    return value


def kura_client_id(raw: str) -> str:
    """Kura's derived client id: the characters / + # . become '-'."""
    return _KURA_REPLACED.sub("-", raw)

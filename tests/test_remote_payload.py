"""KuraPayload, topics, backoff and the cloud settings, without a broker."""

from __future__ import annotations

import gzip

import pytest
from kapua_client import Metric

from app.config.model import validate
from app.metatype import load_catalog
from app.remote.connection import backoff
from app.remote.kurapayload_pb2 import KuraPayload
from app.remote.payload import Long, Payload, decode, encode
from app.remote.settings import CLOUD_PID, CloudSettings, machine_client_id
from app.remote.topics import Identity, parse_request


def test_metrics_keep_their_kura_types() -> None:
    data = encode(Payload({"s": "x", "i": 200, "l": Long(5), "big": 2 ** 40, "b": True,
                           "d": 1.5, "y": b"\x01"}, b"body", 1234))
    raw = KuraPayload()
    raw.ParseFromString(data)
    types = {m.name: m.type for m in raw.metric}
    assert types == {"s": Metric.STRING, "i": Metric.INT32, "l": Metric.INT64,
                     "big": Metric.INT64, "b": Metric.BOOL, "d": Metric.DOUBLE,
                     "y": Metric.BYTES}
    back = decode(data)
    assert back.metrics == {"s": "x", "i": 200, "l": 5, "big": 2 ** 40, "b": True, "d": 1.5,
                            "y": b"\x01"}
    assert back.body == b"body"
    assert back.timestamp == 1234


def test_gzip_only_when_on_and_smaller_and_sniffed_on_input() -> None:
    small = Payload({"a": "b"})
    assert encode(small, gzip_ok=True)[:2] != b"\x1f\x8b"
    big = Payload(body=b"a" * 5000)
    packed = encode(big, gzip_ok=True)
    assert packed[:2] == b"\x1f\x8b"
    assert len(encode(big, gzip_ok=False)) > 5000
    assert decode(packed).body == b"a" * 5000
    assert decode(gzip.compress(encode(small))).metrics == {"a": "b"}


def test_bytes_that_are_no_payload_become_a_body_without_ids() -> None:
    for junk in (b"\xff\xff\xff", b"\x1f\x8b broken gzip"):
        payload = decode(junk)
        assert payload.metrics == {}
        assert payload.body == junk
        assert payload.text_metric("request.id") is None
    # A gzip bomb is not unpacked past the bound.
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))
    assert decode(bomb).metrics == {}


def test_request_topics() -> None:
    me = Identity("$EDC", "acme", "gw-1")
    assert parse_request("$EDC/acme/gw-1/CONF-V1/GET/configurations/web", me) is not None
    req = parse_request("$EDC/acme/gw-1/INVENTORY-V1/EXEC/containers/_start", me)
    assert req is not None
    assert (req.app, req.method, req.resources) == ("INVENTORY-V1", "EXEC",
                                                    ("containers", "_start"))
    for ignored in ("$EDC/acme/gw-1/MQTT/BIRTH", "$EDC/acme/gw-1/BA/GET/x",
                    "$EDC/acme/gw-1/CONF-V1/REPLY/123", "$EDC/acme/gw-1/MOORINGS-V1/NOTIFY/x",
                    "$EDC/acme/gw-2/CONF-V1/GET/configurations", "acme/gw-1/CONF-V1/GET/x"):
        assert parse_request(ignored, me) is None, ignored
    assert me.reply("console", "CONF-V1", "-42") == "$EDC/acme/console/CONF-V1/REPLY/-42"
    assert me.lifecycle("LWT") == "$EDC/acme/gw-1/MQTT/LWT"


def test_backoff_doubles_to_the_cap_with_jitter() -> None:
    assert backoff(0, 60, lambda: 1.0) == 1.0
    assert backoff(0, 60, lambda: 0.0) == 0.5
    assert backoff(3, 60, lambda: 1.0) == 8.0
    assert backoff(20, 60, lambda: 1.0) == 60.0
    assert backoff(20, 60, lambda: 0.0) == 30.0


def test_client_id_from_the_machine_follows_kura() -> None:
    cid = machine_client_id()
    assert len(cid) == 17
    assert not set("/+#.") & set(cid)


@pytest.mark.parametrize(("values", "field", "text"), [
    ({"connect.auto-on-startup": True}, "broker-url", "a broker is required"),
    ({"broker-url": "http://x"}, "broker-url", "is not a broker address"),
    ({"broker-url": "mqtts://tech:pw@x"}, "broker-url", "carries a user name or password"),
    ({"client-id": "a/b"}, "client-id", "is not a client id"),
    ({"topic.context.account-name": "a+b"}, "topic.context.account-name", "one topic level"),
])
def test_cloud_settings_are_validated(values: dict[str, object], field: str, text: str) -> None:
    desc = load_catalog().by_pid(CLOUD_PID)
    errors = validate(desc, values).errors
    assert [e.field_id for e in errors] == [field]
    assert text in errors[0].message
    assert "pw" not in errors[0].message


def test_security_warnings_of_the_settings() -> None:
    desc = load_catalog().by_pid(CLOUD_PID)

    def warning(**values: object) -> str | None:
        return CloudSettings.from_values(desc, values).security_warning()  # type: ignore[arg-type]

    assert warning(**{"broker-url": "mqtts://b:8883"}) is None
    plain = warning(**{"broker-url": "mqtt://b", "password": "s3cret"})
    assert plain is not None
    assert "with a password" in plain
    assert "s3cret" not in plain
    assert "without TLS" in (warning(**{"broker-url": "mqtt://b"}) or "")
    assert "verification is off" in (warning(**{"broker-url": "mqtts://b",
                                                "tls.verify": False}) or "")

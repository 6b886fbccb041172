"""The cloud link on the real broker: Kura's lifecycle (BIRTH, subscribe, APPS, DC, LWT), the
dispatch of requests (ids, reply topic, INT32 code, off the network thread), reconnecting by
itself after the broker or the network goes away, and a sentence for each refusal."""

from __future__ import annotations

import datetime as dt
import logging
import queue
import signal
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from kapua_client import KapuaConsole, Metric, decode, string_metric
from moorings_process import MooringsProcess
from mqtt_harness import DroppingProxy, MqttEnv, PrivateBroker, free_port
from remote_helpers import client_id, cloud_values, gateway, lifecycle, next_message, store_cloud

from app.remote.dispatch import Request, Response
from app.remote.events import LinkState
from app.remote.kurapayload_pb2 import KuraPayload


class Echo:
    """A test application: answers with its request, and notes the thread it ran on."""

    app_id = "MOORINGS-TEST-ECHO"

    def __init__(self) -> None:
        self.threads: list[str] = []

    def handle(self, request: Request) -> Response:
        self.threads.append(threading.current_thread().name)
        body = request.body or ("/".join((request.method, *request.resources))).encode()
        return Response(body=body, metrics={"echo.requester": request.requester})


def test_birth_then_requests_then_dc_on_a_clean_stop(tmp_path: Path, mqtt_env: MqttEnv,
                                                     console: KapuaConsole) -> None:
    cid = client_id()
    life = lifecycle(console, cid)
    echo = Echo()
    with gateway(tmp_path / "gw", cloud_values(mqtt_env, cid)) as (core, events):
        assert core.remote is not None
        link = events.wait(lambda e: e.state is LinkState.CONNECTED)
        assert link.client_id == cid
        assert link.broker == mqtt_env.plain_url
        birth = next_message(life, suffix="/MQTT/BIRTH")
        assert birth.payload is not None
        assert all(m.type == Metric.STRING for m in birth.payload.metric)
        metrics = birth.metrics
        assert metrics["application_framework"] == "Moorings"
        assert metrics["payload_encoding"] == "KURA_PROTOBUF"
        assert " " not in metrics["application_ids"]

        # A new application: APPS, the whole BIRTH again with it in application_ids.
        core.remote.register(echo)
        apps = next_message(life, suffix="/MQTT/APPS")
        assert Echo.app_id in apps.metrics["application_ids"].split(",")
        assert set(apps.metrics) == set(metrics)

        reply = console.request(cid, Echo.app_id, "GET", "a/b")
        assert reply.code == 200
        assert reply.text == "GET/a/b"
        assert reply.metrics["echo.requester"] == console.client_id
        assert echo.threads
        assert all(name.startswith("moorings-remote") for name in echo.threads)

        # Big replies are gzipped when that is smaller (on by default), and read back.
        big = "x" * 20000
        reply = console.request(cid, Echo.app_id, "PUT", "big", big)
        assert reply.gzipped
        assert reply.text == big

        # Unknown method: 400 with a message.
        reply = console.request(cid, Echo.app_id, "PATCH", "x")
        assert reply.code == 400
        assert "PATCH is not a method" in reply.metrics["response.exception.message"]
    dc = next_message(life, suffix="/MQTT/DC")
    assert set(dc.metrics) == {"uptime", "display_name"}
    with pytest.raises(queue.Empty):
        next_message(life, timeout=3, suffix="/MQTT/LWT")


def test_requests_without_both_string_ids_get_no_reply(tmp_path: Path, mqtt_env: MqttEnv,
                                                       console: KapuaConsole) -> None:
    cid = client_id()
    with gateway(tmp_path / "gw", cloud_values(mqtt_env, cid)) as (core, events):
        assert core.remote is not None
        core.remote.register(Echo())
        events.wait(lambda e: e.state is LinkState.CONNECTED)
        replies = console.watch(f"$EDC/{mqtt_env.account}/{console.client_id}/#")
        topic = f"$EDC/{mqtt_env.account}/{cid}/{Echo.app_id}/GET/x"
        missing_id = KuraPayload()
        missing_id.metric.append(string_metric("requester.client.id", console.client_id))
        console.publish_raw(topic, missing_id.SerializeToString())
        int_id = KuraPayload()
        int_id.metric.append(Metric(name="request.id", type=Metric.INT32, int_value=7))
        int_id.metric.append(string_metric("requester.client.id", console.client_id))
        console.publish_raw(topic, int_id.SerializeToString())
        console.publish_raw(topic, b"\x00not a payload")
        # A request that is answered, sent last: nothing else may have come before it.
        reply = console.request(cid, Echo.app_id, "GET", "x")
        assert reply.code == 200
        first = replies.get(timeout=10)
        assert first.topic == reply.topic


def _refusal(tmp_path: Path, values: dict[str, object], caplog: pytest.LogCaptureFixture
             ) -> str:
    with caplog.at_level(logging.WARNING, logger="app.remote"), \
            gateway(tmp_path / "gw", values) as (_core, events):
        event = events.wait(lambda e: e.state is LinkState.WAITING)
    assert event.reason in caplog.text
    return event.reason


def test_a_wrong_password_is_a_sentence(tmp_path: Path, mqtt_env: MqttEnv,
                                        caplog: pytest.LogCaptureFixture) -> None:
    reason = _refusal(tmp_path, cloud_values(mqtt_env, client_id(), password="Zq9-not-it"), caplog)
    assert f"refused {mqtt_env.device_user} (not authorised): the user name or password is " \
        "wrong" in reason
    assert "Zq9-not-it" not in reason


def test_a_wrong_ca_is_a_sentence(tmp_path: Path, mqtt_env: MqttEnv,
                                  caplog: pytest.LogCaptureFixture) -> None:
    values = cloud_values(mqtt_env, client_id(), tls=True, **{
        "tls.ca.cert": str(mqtt_env.other_ca)})
    reason = _refusal(tmp_path, values, caplog)
    assert "certificate that is not trusted" in reason
    assert str(mqtt_env.other_ca) in reason


def test_an_unreachable_broker_is_a_sentence(tmp_path: Path, mqtt_env: MqttEnv,
                                             caplog: pytest.LogCaptureFixture) -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    reason = _refusal(tmp_path, cloud_values(mqtt_env, client_id(), url=url), caplog)
    assert f"nothing accepts connections at {url}" in reason


def test_tls_with_the_right_ca_connects(tmp_path: Path, mqtt_env: MqttEnv) -> None:
    with gateway(tmp_path / "gw", cloud_values(mqtt_env, client_id(), tls=True)) as (_, events):
        link = events.wait(lambda e: e.state is LinkState.CONNECTED)
    assert link.warning == ""


def _client_certificate(env: MqttEnv, folder: Path) -> tuple[Path, Path]:
    """A client key and certificate signed by the test CA (the broker trusts it)."""
    ca_key = serialization.load_pem_private_key((env.folder / "certs" / "ca.key").read_bytes(),
                                                password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    ca = x509.load_pem_x509_certificate(env.ca.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "moorings-test")]))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = folder / "client.crt", folder / "client.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def test_a_broker_that_requires_a_client_certificate(tmp_path: Path, mqtt_env: MqttEnv,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    broker = PrivateBroker(mqtt_env, tmp_path)
    # Its TLS listener lets in only clients with a certificate from the test CA.
    broker.conf.write_text(broker.conf.read_text(encoding="utf-8").replace(
        "tls_version tlsv1.2", "tls_version tlsv1.2\nrequire_certificate true"), encoding="utf-8")
    broker.start()
    cert, key = _client_certificate(mqtt_env, tmp_path)
    try:
        url = broker.tls_url
        with caplog.at_level(logging.WARNING, logger="app.remote"), \
                gateway(tmp_path / "without", cloud_values(mqtt_env, client_id(), url=url,
                                                           tls=True)) as (_, events):
            event = events.wait(lambda e: e.state is LinkState.WAITING)
        assert f"the broker at {url} asks for a client certificate" in event.reason
        assert "TLS Client Certificate and TLS Client Key" in event.reason
        assert event.reason in caplog.text

        values = cloud_values(mqtt_env, client_id(), url=url, tls=True, **{
            "tls.client.cert": str(cert), "tls.client.key": str(key)})
        with gateway(tmp_path / "with", values) as (_, events):
            link = events.wait(lambda e: e.state is LinkState.CONNECTED)
        assert link.broker == url
    finally:
        broker.stop()


def test_plain_mqtt_with_a_password_and_verify_off_are_warned_about(
        tmp_path: Path, mqtt_env: MqttEnv, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="app.remote"), \
            gateway(tmp_path / "a", cloud_values(mqtt_env, client_id())) as (_, events):
        link = events.wait(lambda e: e.state is LinkState.CONNECTED)
    assert "plain MQTT connection without TLS, with a password" in link.warning
    assert link.warning in caplog.text
    values = cloud_values(mqtt_env, client_id(), tls=True, **{"tls.verify": False,
                                                                "tls.ca.cert": ""})
    with caplog.at_level(logging.WARNING, logger="app.remote"), \
            gateway(tmp_path / "b", values) as (_, events):
        link = events.wait(lambda e: e.state is LinkState.CONNECTED)
    assert "TLS verification is off" in link.warning
    assert link.warning in caplog.text


def test_a_broker_restart_is_survived_with_birth_again(tmp_path: Path, mqtt_env: MqttEnv
                                                       ) -> None:
    broker = PrivateBroker(mqtt_env, tmp_path)
    broker.start()
    cid = client_id()
    try:
        with gateway(tmp_path / "gw", cloud_values(mqtt_env, cid, url=broker.plain_url)) \
                as (_, events):
            events.wait(lambda e: e.state is LinkState.CONNECTED)
            broker.stop()
            events.wait(lambda e: e.state is LinkState.WAITING and "lost" in e.reason)
            broker.start()
            console = KapuaConsole(mqtt_env, url=broker.plain_url)
            try:
                life = lifecycle(console, cid)
                birth = next_message(life, suffix="/MQTT/BIRTH")
                assert birth.metrics["application_framework"] == "Moorings"
            finally:
                console.close()
    finally:
        broker.stop()


def test_a_dropped_network_is_survived_with_birth_again(tmp_path: Path, mqtt_env: MqttEnv,
                                                        console: KapuaConsole) -> None:
    proxy = DroppingProxy(mqtt_env.plain_port)
    cid = client_id()
    life = lifecycle(console, cid)
    try:
        with gateway(tmp_path / "gw", cloud_values(mqtt_env, cid, url=proxy.url)) as (_, ev):
            ev.wait(lambda e: e.state is LinkState.CONNECTED)
            next_message(life, suffix="/MQTT/BIRTH")
            proxy.drop()
            # The broker saw the socket close without DISCONNECT: the last will.
            assert next_message(life, suffix="/MQTT/LWT").raw == b""
            birth = next_message(life, suffix="/MQTT/BIRTH")
            assert birth.topic.endswith(f"/{cid}/MQTT/BIRTH")
    finally:
        proxy.close()


def test_the_last_will_when_the_headless_gateway_is_killed(tmp_path: Path, mqtt_env: MqttEnv,
                                                           console: KapuaConsole) -> None:
    cid = client_id()
    folder = tmp_path / "gw"
    store_cloud(folder, cloud_values(mqtt_env, cid))
    life = lifecycle(console, cid)
    proc = MooringsProcess(folder, "--headless")
    try:
        birth = next_message(life, suffix="/MQTT/BIRTH")
        assert birth.metrics["serial_number"] == cid
        proc.wait_for(f"connected to {mqtt_env.plain_url} as {cid}")
        proc.proc.send_signal(signal.SIGKILL)
        lwt = next_message(life, suffix="/MQTT/LWT", timeout=15)
        assert lwt.raw == b""
        assert decode(lwt.raw)[0].metric == []
    finally:
        proc.close()

"""The broker harness itself: passwords, TLS with the harness's CA, and Kapua's device ACL."""

from __future__ import annotations

import queue
import ssl
import threading
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from kapua_client import KapuaConsole
from mqtt_harness import MqttEnv
from paho.mqtt.enums import CallbackAPIVersion

from app.remote.connection import ClosingSSLSocket


def _device(env: MqttEnv, client_id: str, *, password: str | None = None,
            tls_ca: str | None = None) -> tuple[mqtt.Client, Any]:
    """A bare device client; returns it and the reason code of its CONNACK (or the error)."""
    result: queue.Queue[Any] = queue.Queue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv311, clean_session=True)
    client.username_pw_set(env.device_user, password or env.device_password)
    client.on_connect = lambda c, u, f, rc, p: result.put(rc)
    port = env.plain_port
    if tls_ca is not None:
        context = ssl.create_default_context(cafile=tls_ca)
        # As Moorings' own link does: paho leaves a failed handshake's socket open.
        context.sslsocket_class = ClosingSSLSocket
        client.tls_set_context(context)
        port = env.tls_port
    try:
        client.connect("127.0.0.1", port, keepalive=10)
    except (ssl.SSLError, OSError) as exc:
        return client, exc
    client.loop_start()
    try:
        return client, result.get(timeout=10)
    except queue.Empty:
        return client, None


def _close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


def test_a_device_connects_with_its_password_and_not_without(mqtt_env: MqttEnv) -> None:
    good, rc = _device(mqtt_env, "moorings-test-dev-a")
    try:
        assert rc == 0
    finally:
        _close(good)
    bad, rc = _device(mqtt_env, "moorings-test-dev-b", password="wrong")
    try:
        assert rc is not None
        assert not isinstance(rc, Exception)
        assert rc.is_failure
        assert rc.value in (4, 5, 134, 135)
    finally:
        _close(bad)


def test_tls_with_the_harness_ca_and_not_with_another(mqtt_env: MqttEnv) -> None:
    good, rc = _device(mqtt_env, "moorings-test-dev-tls", tls_ca=str(mqtt_env.ca))
    try:
        assert rc == 0
    finally:
        _close(good)
    _, err = _device(mqtt_env, "moorings-test-dev-tls2", tls_ca=str(mqtt_env.other_ca))
    assert isinstance(err, ssl.SSLCertVerificationError)


def test_kapua_acl_a_device_never_hears_another_devices_control_topics(
        mqtt_env: MqttEnv) -> None:
    account = mqtt_env.account
    heard: queue.Queue[str] = queue.Queue()
    spy, rc = _device(mqtt_env, "moorings-test-dev-spy")
    assert rc == 0
    subscribed = threading.Event()
    spy.on_message = lambda c, u, m: heard.put(m.topic)
    spy.on_subscribe = lambda *a: subscribed.set()
    console = KapuaConsole(mqtt_env)
    try:
        # Its own subtree is delivered; another device's is not (enforced at delivery).
        spy.subscribe(f"$EDC/{account}/+/#", qos=1)
        assert subscribed.wait(10)
        console.publish_raw(f"$EDC/{account}/moorings-test-dev-victim/CONF-V1/GET/x", b"1")
        console.publish_raw(f"$EDC/{account}/moorings-test-dev-spy/CONF-V1/GET/x", b"2")
        assert heard.get(timeout=10) == f"$EDC/{account}/moorings-test-dev-spy/CONF-V1/GET/x"
        with pytest.raises(queue.Empty):
            heard.get(timeout=1)
        # ... and the device may write a reply to any requester, which the console hears.
        replies = console.watch(f"$EDC/{account}/{console.client_id}/#")
        spy.publish(f"$EDC/{account}/{console.client_id}/CONF-V1/REPLY/1", b"r", qos=1)
        assert replies.get(timeout=10).raw == b"r"
    finally:
        console.close()
        _close(spy)

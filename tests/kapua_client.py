"""A console written from Eclipse Kapua's request shape, to drive a gateway over the test broker.

As Kapua's translators build a request (kura-remote.md §3.4, kura-behaviour.md §6.1): only the
two STRING metrics ``request.id`` (a random signed long) and ``requester.client.id``, no
timestamp; it subscribes to the reply topic before it publishes, and waits 30 s. Each reply is
checked as Kapua's parser reads one: a six-segment reply topic, gzip sniffed by its magic, a
``response.code`` that is an INT32 metric. Only the generated schema is shared with Moorings.
"""

from __future__ import annotations

import gzip
import json
import queue
import random
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from mqtt_harness import MqttEnv
from paho.mqtt.enums import CallbackAPIVersion

from app.remote.kurapayload_pb2 import KuraPayload

Metric = KuraPayload.KuraMetric
REQUEST_TIMEOUT_S = 30.0


@dataclass
class Message:
    topic: str
    raw: bytes
    payload: KuraPayload | None

    @property
    def metrics(self) -> dict[str, Any]:
        return metrics_of(self.payload) if self.payload is not None else {}


@dataclass
class Reply:
    topic: str
    code: int
    metrics: dict[str, Any]
    body: bytes
    gzipped: bool = False
    types: dict[str, int] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def decode(raw: bytes) -> tuple[KuraPayload, bool]:
    gz = raw[:2] == b"\x1f\x8b"
    data = gzip.decompress(raw) if gz else raw
    payload = KuraPayload()
    payload.ParseFromString(data)
    return payload, gz


_VALUE_FIELD = {Metric.DOUBLE: "double_value", Metric.FLOAT: "float_value",
                Metric.INT64: "long_value", Metric.INT32: "int_value",
                Metric.BOOL: "bool_value", Metric.STRING: "string_value",
                Metric.BYTES: "bytes_value"}


def metrics_of(payload: KuraPayload) -> dict[str, Any]:
    return {m.name: getattr(m, _VALUE_FIELD[m.type]) for m in payload.metric}


def string_metric(name: str, value: str) -> Metric:
    return Metric(name=name, type=Metric.STRING, string_value=value)


class KapuaConsole:
    """One connected console (the server user of the test broker)."""

    def __init__(self, env: MqttEnv, *, url: str | None = None, client_id: str | None = None,
                 username: str | None = None, password: str | None = None) -> None:
        self.env = env
        self.account = env.account
        self.client_id = client_id or f"moorings-test-console-{uuid.uuid4().hex[:8]}"
        self._lock = threading.Lock()
        self._waiters: dict[str, queue.Queue[Message]] = {}
        self._watches: list[tuple[str, queue.Queue[Message]]] = []
        self._subacks: dict[int, threading.Event] = {}
        self._connected = threading.Event()
        url = url or env.plain_url
        host, port = url.split("://", 1)[1].rsplit(":", 1)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                  protocol=mqtt.MQTTv311, clean_session=True)
        self.client.username_pw_set(username or env.server_user, password or env.server_password)
        if url.startswith("mqtts://"):
            self.client.tls_set(ca_certs=str(env.ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.connect(host, int(port), keepalive=30)
        self.client.loop_start()
        if not self._connected.wait(10):
            self.close()
            raise RuntimeError(f"the console could not connect to {url}")

    # -- paho callbacks (its network thread) --------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any,
                    props: Any) -> None:
        if not rc.is_failure:
            self._connected.set()

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, rcs: Any,
                      props: Any) -> None:
        with self._lock:
            ev = self._subacks.pop(mid, None)
        if ev is not None:
            ev.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        payload: KuraPayload | None
        try:
            payload, _ = decode(msg.payload)
        except Exception:  # noqa: BLE001 - an LWT is empty, other payloads are not ours to judge
            payload = None
        message = Message(msg.topic, bytes(msg.payload), payload)
        with self._lock:
            waiter = self._waiters.get(msg.topic)
            watches = [q for f, q in self._watches if mqtt.topic_matches_sub(f, msg.topic)]
        if waiter is not None:
            waiter.put(message)
        for q in watches:
            q.put(message)

    # -- use -----------------------------------------------------------------------------------
    def subscribe(self, topic: str, timeout: float = 10) -> None:
        ev = threading.Event()
        with self._lock:
            rc, mid = self.client.subscribe(topic, qos=1)
            assert rc == mqtt.MQTT_ERR_SUCCESS
            self._subacks[mid] = ev
        assert ev.wait(timeout), f"no SUBACK for {topic}"

    def watch(self, topic_filter: str) -> queue.Queue[Message]:
        """Every message matching ``topic_filter`` from now on (subscribed, SUBACK awaited)."""
        q: queue.Queue[Message] = queue.Queue()
        with self._lock:
            self._watches.append((topic_filter, q))
        self.subscribe(topic_filter)
        return q

    def request(self, device: str, app: str, method: str, resources: str,
                body: bytes | str | None = None, *, metrics: dict[str, Any] | None = None,
                timeout: float = REQUEST_TIMEOUT_S, request_id: str | None = None) -> Reply:
        """One request as Kapua sends it; the reply, checked as Kapua's parser reads it."""
        return parse_reply(self.request_raw(device, app, method, resources, body,
                                            metrics=metrics, timeout=timeout,
                                            request_id=request_id))

    def request_raw(self, device: str, app: str, method: str, resources: str,
                    body: bytes | str | None = None, *, metrics: dict[str, Any] | None = None,
                    timeout: float = REQUEST_TIMEOUT_S,
                    request_id: str | None = None) -> Message:
        """:meth:`request`, returning the reply message as it came (a bare echo's, say)."""
        rid = request_id or str(random.randint(-(2 ** 63), 2 ** 63 - 1))
        reply_topic = f"$EDC/{self.account}/{self.client_id}/{app}/REPLY/{rid}"
        q: queue.Queue[Message] = queue.Queue()
        with self._lock:
            self._waiters[reply_topic] = q
        try:
            self.subscribe(reply_topic)
            payload = KuraPayload()
            payload.metric.append(string_metric("request.id", rid))
            payload.metric.append(string_metric("requester.client.id", self.client_id))
            for name, value in (metrics or {}).items():
                payload.metric.append(_metric(name, value))
            if body is not None:
                payload.body = body.encode("utf-8") if isinstance(body, str) else body
            topic = f"$EDC/{self.account}/{device}/{app}/{method}/{resources}"
            self.client.publish(topic, payload.SerializeToString(), qos=0)
            try:
                message = q.get(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(f"no reply to {method} {app}/{resources} within "
                                   f"{timeout} s") from None
        finally:
            with self._lock:
                self._waiters.pop(reply_topic, None)
            self.client.unsubscribe(reply_topic)
        return message

    def publish_raw(self, topic: str, data: bytes) -> None:
        self.client.publish(topic, data, qos=0)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _metric(name: str, value: Any) -> Metric:
    if isinstance(value, bool):
        return Metric(name=name, type=Metric.BOOL, bool_value=value)
    if isinstance(value, int):
        return Metric(name=name, type=Metric.INT32, int_value=value) \
            if -(2 ** 31) <= value < 2 ** 31 else Metric(name=name, type=Metric.INT64,
                                                          long_value=value)
    if isinstance(value, float):
        return Metric(name=name, type=Metric.DOUBLE, double_value=value)
    return string_metric(name, str(value))


def parse_reply(message: Message) -> Reply:
    """As Kapua reads a reply: six topic segments, ``response.code`` an INT32 metric."""
    parts = message.topic.split("/")
    assert len(parts) == 6, message.topic
    assert parts[0] == "$EDC", message.topic
    assert parts[4] == "REPLY", message.topic
    payload, gz = decode(message.raw)
    types = {m.name: m.type for m in payload.metric}
    assert types.get("response.code") == Metric.INT32, f"response.code is not INT32: {types}"
    metrics = metrics_of(payload)
    return Reply(message.topic, int(metrics["response.code"]), metrics, payload.body, gz, types)

"""The link to the broker: one paho client driven by a thread of its own ("moorings-cloud"),
with Kura's lifecycle (LWT set, BIRTH then subscribe on every CONNACK, APPS when the set of
applications changes, DC on a clean stop) and a jittered backoff, forever.

Nothing here waits on the orchestrator: incoming requests are handed to ``on_message`` (the
dispatcher, which queues them to its own workers) and publishing only queues bytes to paho.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from app.errors import SyntaxProblem
from app.remote import reasons
from app.remote.events import CloudLinkChanged, LinkState
from app.remote.payload import Payload, encode, now_ms
from app.remote.settings import CloudSettings, announce

log = logging.getLogger(__name__)

FIRST_DELAY_S = 1.0
CONNECT_TIMEOUT_S = 10.0
STOP_FLUSH_S = 2.0

SettingsSource = Callable[[], CloudSettings]
MessageSink = Callable[[str, bytes], None]
StateSink = Callable[[CloudLinkChanged], None]
BirthSource = Callable[[CloudSettings], dict[str, str]]


def backoff(attempt: int, cap_s: float, rand: Callable[[], float] = random.random) -> float:
    """The wait before attempt ``attempt`` + 1: 1 s doubling up to ``cap_s``, each wait a random
    part (half to all) of its length, so that a fleet that lost its broker comes back spread."""
    base = min(cap_s, FIRST_DELAY_S * (2 ** min(attempt, 30)))
    return float(base * (0.5 + 0.5 * rand()))


class CloudConnection:
    """Connects, stays connected, and says so through ``on_state``; :meth:`reconfigure` makes it
    leave cleanly (DC) and come back with the settings ``settings()`` gives then."""

    def __init__(self, settings: SettingsSource, *, on_message: MessageSink,
                 on_state: StateSink, birth: BirthSource) -> None:
        self._settings = settings
        self._on_message = on_message
        self._on_state = on_state
        self._birth = birth
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._client: mqtt.Client | None = None
        self._current: CloudSettings | None = None
        self._connected = False
        self._refusal: str | None = None
        self._tls_errors: list[ssl.SSLError] = []  # this session's, from its TLS socket
        self._attempt = 0
        self.state = CloudLinkChanged(LinkState.DISABLED, "", "", "", "not started")
        self._thread = threading.Thread(target=self._run, name="moorings-cloud", daemon=True)

    # -- any thread ----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Publish DC and disconnect (a clean stop: no LWT), then end the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def reconfigure(self) -> None:
        """The settings changed: disconnect cleanly and connect again with the new ones."""
        self._wake.set()

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def settings(self) -> CloudSettings | None:
        """The settings of the connection in force (None before the first attempt)."""
        return self._current

    def publish(self, topic: str, data: bytes, qos: int = 0) -> bool:
        """Queue a message; False when not connected (it is dropped, as Kura drops replies)."""
        with self._lock:
            client = self._client if self._connected else None
        if client is None:
            return False
        info = client.publish(topic, data, qos=qos, retain=False)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def publish_apps(self) -> None:
        """The set of applications changed: APPS, the full BIRTH payload again (Kura's rule)."""
        settings = self._current
        if settings is not None and self._connected:
            self.publish(settings.identity.lifecycle("APPS"), self._birth_bytes(settings), 1)

    # -- the thread --------------------------------------------------------------------------
    def _announce(self, state: LinkState, settings: CloudSettings | None, reason: str = "",
                  retry_in: float = 0.0) -> None:
        s = settings or CloudSettings()
        event = CloudLinkChanged(state, s.url, s.client_id, s.account, reason,
                                 (s.security_warning() or "") if settings else "", retry_in)
        previous, self.state = self.state, event
        if (previous.state, previous.reason, previous.broker, previous.client_id) == (
                event.state, event.reason, event.broker, event.client_id):
            return  # the same attempt failing the same way: said once
        if state is LinkState.CONNECTED:
            log.info("cloud: %s", event.sentence())
        elif state is LinkState.WAITING:
            log.warning("cloud: %s; trying again in %.0f s", event.sentence(), retry_in)
        elif state is LinkState.DISABLED:
            log.info("cloud: %s", event.sentence())
        try:
            self._on_state(event)
        except Exception:
            log.exception("a cloud link listener failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            settings = self._settings()
            self._current = settings
            if not settings.enabled:
                self._announce(LinkState.DISABLED, settings)
                self._wake.wait()
                continue
            try:
                address = settings.address()
            except SyntaxProblem as exc:
                self._announce(LinkState.WAITING, settings, exc.message)
                self._wake.wait()
                continue
            announce(settings)
            self._announce(LinkState.CONNECTING, settings)
            reason = self._session(settings, address.host, address.port, address.tls)
            if self._stop.is_set():
                break
            if self._wake.is_set():
                self._attempt = 0
                continue  # reconfigured: at once, with the new settings
            delay = backoff(self._attempt, float(max(1, settings.retry_interval_s)))
            self._attempt += 1
            self._announce(LinkState.WAITING, settings, reason, delay)
            self._wake.wait(delay)

    def _client_for(self, settings: CloudSettings, tls: bool) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=settings.client_id,
                             protocol=mqtt.MQTTv311, clean_session=True)
        client.connect_timeout = CONNECT_TIMEOUT_S
        if settings.username:
            client.username_pw_set(settings.username, settings.password or None)
        # The broker publishes this if the connection dies uncleanly: Kapua reads MISSING.
        client.will_set(settings.identity.lifecycle("LWT"), b"", qos=0, retain=False)
        if tls:
            context = ssl.create_default_context(cafile=settings.ca_cert)
            if not settings.verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            if settings.client_cert:
                context.load_cert_chain(settings.client_cert, settings.client_key)
            # paho drops the TLS socket of a failed handshake without closing it: one file
            # descriptor lost at every attempt, forever, against a broker we do not trust.
            # It also hides a TLS alert that comes after the handshake behind "connection
            # lost": the socket keeps it for the session's sentence.
            context.sslsocket_class = _session_socket(self._tls_errors)
            client.tls_set_context(context)
            if not settings.verify:
                client.tls_insecure_set(True)
        client.on_connect = self._on_connect
        client.on_message = self._on_paho_message
        client.user_data_set(settings)
        return client

    def _session(self, settings: CloudSettings, host: str, port: int, tls: bool) -> str:
        """One connection, from connect to its end; returns why it ended."""
        self._refusal = None
        self._tls_errors = []
        try:
            client = self._client_for(settings, tls)
            client.connect(host, port, keepalive=max(2, settings.keep_alive_s))
        except Exception as exc:  # noqa: BLE001 - every failure becomes the state's sentence
            return reasons.connect_error(exc, settings)
        with self._lock:
            self._client = client
        try:
            while not self._wake.is_set():
                rc = client.loop(timeout=0.2)
                if rc != mqtt.MQTT_ERR_SUCCESS or self._refusal is not None:
                    break
            if self._wake.is_set() and self._connected:
                self._leave(client, settings)
        except Exception as exc:
            log.debug("cloud: the connection loop ended", exc_info=True)
            return reasons.connect_error(exc, settings)
        finally:
            was = self._connected
            with self._lock:
                self._connected = False
                self._client = None
            try:
                client.disconnect()
                client.loop(timeout=0.05)
            except Exception:
                log.debug("cloud: closing the client failed", exc_info=True)
            if was and self._refusal is None:
                self._attempt = 0
        if self._refusal is None and not was and self._tls_errors:
            # Closed by a TLS alert before the broker answered: with TLS 1.3 a broker that
            # wants a client certificate says so only after the handshake.
            return reasons.closed_after_handshake(self._tls_errors[-1], settings)
        return self._refusal or reasons.lost(settings)

    def _leave(self, client: mqtt.Client, settings: CloudSettings) -> None:
        """A clean stop: DC (uptime, display_name), then DISCONNECT, so no LWT."""
        birth = self._birth(settings)
        dc = Payload({"uptime": birth.get("uptime", "0"),
                      "display_name": birth.get("display_name", settings.client_id)},
                     timestamp=now_ms())
        info = client.publish(settings.identity.lifecycle("DC"), encode(dc), qos=0)
        deadline = time.monotonic() + STOP_FLUSH_S
        while not info.is_published() and time.monotonic() < deadline:
            if client.loop(timeout=0.05) != mqtt.MQTT_ERR_SUCCESS:
                break
        with self._lock:
            self._connected = False
        client.disconnect()
        client.loop(timeout=0.05)

    def _birth_bytes(self, settings: CloudSettings) -> bytes:
        return encode(Payload(dict(self._birth(settings)), timestamp=now_ms()),
                      gzip_ok=settings.gzip)

    # -- paho callbacks (this thread, inside loop()) -------------------------------------------
    def _on_connect(self, client: mqtt.Client, settings: CloudSettings, flags: Any,
                    rc: Any, properties: Any) -> None:
        if rc.is_failure:
            self._refusal = reasons.refused(int(rc.value), settings)
            return
        identity = settings.identity
        # Kura's order: BIRTH first, then the subscription to the device's own subtree.
        client.publish(identity.lifecycle("BIRTH"), self._birth_bytes(settings), qos=1)
        client.subscribe(identity.subscription, qos=1)
        with self._lock:
            self._connected = True
        self._attempt = 0
        self._announce(LinkState.CONNECTED, settings)

    def _on_paho_message(self, client: mqtt.Client, settings: CloudSettings,
                         message: mqtt.MQTTMessage) -> None:
        try:
            self._on_message(message.topic, bytes(message.payload))
        except Exception:
            log.exception("cloud: handing over a message on %s failed", message.topic)


class ClosingSSLSocket(ssl.SSLSocket):
    """A TLS socket that closes itself when its handshake fails (see the caller)."""

    def do_handshake(self, block: bool = False) -> None:
        try:
            super().do_handshake(block)
        except BaseException:
            self.close()
            raise


def _session_socket(errors: list[ssl.SSLError]) -> type[ClosingSSLSocket]:
    """A ClosingSSLSocket that also notes in ``errors`` each TLS error a read raises."""

    def note(exc: ssl.SSLError) -> None:
        if not isinstance(exc, ssl.SSLWantReadError | ssl.SSLWantWriteError):
            errors.append(exc)

    class SessionSocket(ClosingSSLSocket):
        def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
            try:
                return super().recv(buflen, flags)
            except ssl.SSLError as exc:
                note(exc)
                raise

        def send(self, data: Any, flags: int = 0) -> int:
            try:
                return super().send(data, flags)
            except ssl.SSLError as exc:
                note(exc)
                raise

    return SessionSocket

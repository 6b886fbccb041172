"""The MQTT side of the harness: the test broker ``scripts/test-env.sh start`` runs (Debian's
Mosquitto on loopback with passwords, TLS and Kapua's device ACL), a private broker on a free
port from the same files (for tests that stop and restart it), and a dropping TCP proxy.

``scripts/test-env.sh start`` writes the broker's coordinates to ``<state>/mosquitto/env``
(and appends them to the main env file):

======================================  =====================================================
``MOORINGS_TEST_MQTT_PLAIN``            ``mqtt://127.0.0.1:11883`` (plain listener)
``MOORINGS_TEST_MQTT_TLS``              ``mqtts://127.0.0.1:18883`` (TLS listener)
``MOORINGS_TEST_MQTT_CA``               the CA that signed the broker's certificate
``MOORINGS_TEST_MQTT_OTHER_CA``         a CA that signed nothing (wrong-CA tests)
``MOORINGS_TEST_MQTT_ACCOUNT``          the account in the topics (``moorings-test``)
``MOORINGS_TEST_MQTT_DEVICE_USER``      a device user: Kapua's device ACL applies to it
``MOORINGS_TEST_MQTT_SERVER_USER``      the console's user: the whole account
======================================  =====================================================
(and ``..._PASSWORD`` for both users, ``..._DIR`` and ``..._LOG``.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness import env_file, read_env_file


class MqttEnvMissing(RuntimeError):
    """The broker's env is not written, or the broker does not answer."""


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        try:
            s.connect((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class MqttEnv:
    plain_url: str
    tls_url: str
    ca: Path
    other_ca: Path
    account: str
    device_user: str
    device_password: str
    server_user: str
    server_password: str
    folder: Path
    log: Path

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> MqttEnv:
        env = dict(environ if environ is not None else os.environ)
        if not env.get("MOORINGS_TEST_MQTT_PLAIN"):
            # The broker's own env file: another checkout's test-env.sh rewrites the main one.
            env.update(read_env_file(env_file().parent / "mosquitto" / "env"))
        try:
            return cls(
                plain_url=env["MOORINGS_TEST_MQTT_PLAIN"], tls_url=env["MOORINGS_TEST_MQTT_TLS"],
                ca=Path(env["MOORINGS_TEST_MQTT_CA"]),
                other_ca=Path(env["MOORINGS_TEST_MQTT_OTHER_CA"]),
                account=env["MOORINGS_TEST_MQTT_ACCOUNT"],
                device_user=env["MOORINGS_TEST_MQTT_DEVICE_USER"],
                device_password=env["MOORINGS_TEST_MQTT_DEVICE_PASSWORD"],
                server_user=env["MOORINGS_TEST_MQTT_SERVER_USER"],
                server_password=env["MOORINGS_TEST_MQTT_SERVER_PASSWORD"],
                folder=Path(env["MOORINGS_TEST_MQTT_DIR"]), log=Path(env["MOORINGS_TEST_MQTT_LOG"]))
        except KeyError as exc:
            raise MqttEnvMissing(f"the test broker is not set up ({exc.args[0]} unset, and no "
                                 f"{env_file().parent / 'mosquitto' / 'env'})") from None

    @property
    def plain_port(self) -> int:
        return int(self.plain_url.rsplit(":", 1)[1])

    @property
    def tls_port(self) -> int:
        return int(self.tls_url.rsplit(":", 1)[1])

    def check(self) -> None:
        for port in (self.plain_port, self.tls_port):
            if not _port_open(port):
                raise MqttEnvMissing(f"the test broker does not listen on 127.0.0.1:{port}")


class PrivateBroker:
    """A Mosquitto of the test's own, on free loopback ports, with the harness's passwords,
    ACL and certificates: a test may stop and restart it without disturbing the others."""

    def __init__(self, env: MqttEnv, folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.plain_port = free_port()
        self.tls_port = free_port()
        self.log = folder / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None
        conf = (env.folder / "mosquitto.conf").read_text(encoding="utf-8")
        conf = conf.replace(f"listener {env.plain_port} ", f"listener {self.plain_port} ")
        conf = conf.replace(f"listener {env.tls_port} ", f"listener {self.tls_port} ")
        conf = conf.replace(f"log_dest file {env.log}", f"log_dest file {self.log}")
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(conf, encoding="utf-8")

    @property
    def plain_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.plain_port}"

    @property
    def tls_url(self) -> str:
        return f"mqtts://127.0.0.1:{self.tls_port}"

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([binary, "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not (_port_open(self.plain_port) and _port_open(self.tls_port)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the private broker did not start; see {self.log}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


class DroppingProxy:
    """A TCP proxy from a free loopback port to ``target``; :meth:`drop` cuts every connection
    it carries (a network that lost the link), and new connections go through again."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self.port = int(self._server.getsockname()[1])
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = False
        self.refuse = False
        threading.Thread(target=self._accept, daemon=True, name="test-proxy").start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.refuse:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def drop(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()

    def close(self) -> None:
        self._closed = True
        self.drop()
        with contextlib.suppress(OSError):
            self._server.close()

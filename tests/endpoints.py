"""The test engine reached through TLS on tcp:// (a verifying proxy) and through a private sshd."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

LOOPBACK = "127.0.0.1"
SSHD = "/usr/sbin/sshd"
SSH = "/usr/bin/ssh"


def unix_socket_path(docker_host: str) -> str:
    """The socket path of a ``unix://`` engine URL; the proxies can only forward to a local one."""
    parsed = urlparse(docker_host)
    if parsed.scheme != "unix" or not parsed.path:
        raise ValueError(f"the test engine must be on a unix:// socket, not {docker_host}")
    return parsed.path


def free_port() -> int:
    """A loopback port nothing listens on now (sshd must be told its port before it binds)."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


def _run(*args: str | os.PathLike[str]) -> None:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=60,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({done.returncode}): "
                           f"{done.stderr.strip()}")


# --- TLS ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: a CA, a server and a client certificate it signed, and an unrelated CA."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    wrong_ca: Path


# EC keys: generating them takes milliseconds, RSA keys take up to a second each.
_EC_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
_CA_EXT = ("-addext", "basicConstraints=critical,CA:TRUE",
           "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def _make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.pem", folder / f"{name}-key.pem"
    _run("openssl", "req", "-x509", *_EC_KEY, *_CA_EXT, "-keyout", key, "-out", cert,
         "-days", "2", "-subj", f"/CN=moorings-test {name}")
    return cert, key


def _make_leaf(folder: Path, name: str, ca: tuple[Path, Path], extensions: str) -> \
        tuple[Path, Path]:
    cert, key, csr = folder / f"{name}.pem", folder / f"{name}-key.pem", folder / f"{name}.csr"
    ext = folder / f"{name}.ext"
    ext.write_text("basicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature\n"
                   "authorityKeyIdentifier=keyid,issuer\n"
                   "subjectKeyIdentifier=hash\n" + extensions, encoding="utf-8")
    _run("openssl", "req", "-new", *_EC_KEY, "-keyout", key, "-out", csr,
         "-subj", f"/CN=moorings-test {name}")
    _run("openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
         "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
    return cert, key


def make_tls_files(folder: Path) -> TlsFiles:
    """Generate every certificate with ``openssl`` into ``folder`` (keys mode 0600)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = _make_ca(folder, "ca")
    server = _make_leaf(folder, "server", ca,
                        f"subjectAltName=IP:{LOOPBACK}\nextendedKeyUsage=serverAuth\n")
    client = _make_leaf(folder, "client", ca, "extendedKeyUsage=clientAuth\n")
    wrong_ca, _ = _make_ca(folder, "wrong-ca")
    for key in folder.glob("*-key.pem"):
        key.chmod(0o600)
    return TlsFiles(ca=ca[0], server_cert=server[0], server_key=server[1],
                    client_cert=client[0], client_key=client[1], wrong_ca=wrong_ca)


# What dockerd (Go's net/http) answers a plain HTTP request on its TLS port.
_PLAIN_HTTP_ANSWER = (b"HTTP/1.0 400 Bad Request\r\n\r\n"
                      b"Client sent an HTTP request to an HTTPS server.\n")


class TlsProxy:
    """Terminates TLS on a loopback port, demands a client certificate signed by the CA (unless
    ``require_client_cert`` is false), and pipes each connection's bytes to the engine's unix
    socket (so streams last as long as the client keeps them). Runs its own asyncio loop on a
    daemon thread.

    TLS runs over memory BIOs rather than asyncio's ``ssl=``: asyncio drops the connection
    on a failed handshake without sending the alert, while a real engine sends it (TLS 1.3
    clients only learn of a refused client certificate from that alert)."""

    def __init__(self, files: TlsFiles, unix_path: str, *,
                 require_client_cert: bool = True) -> None:
        self._unix_path = unix_path
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(files.ca))
        self._context.load_cert_chain(str(files.server_cert), str(files.server_key))
        # Without: as a dockerd with --tls but not --tlsverify, which lets any client in.
        self._context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_NONE
        self._loop = asyncio.new_event_loop()
        # Refused handshakes are the point of some tests: keep them for a look, don't print.
        self.refusals: list[str] = []
        # Anything else that went wrong in the loop, for a failing test to show.
        self.errors: list[str] = []
        self._loop.set_exception_handler(
            lambda _loop, ctx: self.errors.append(f"{ctx['message']}: {ctx.get('exception')!r}"))
        self._thread = threading.Thread(target=self._loop.run_forever, name="tls-proxy",
                                        daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self.port = 0

    def start(self) -> int:
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)
        return self.port

    async def _serve(self) -> int:
        self._server = await asyncio.start_server(self._handle, LOOPBACK, 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self._context.wrap_bio(incoming, outgoing, server_side=True)

        def flush() -> None:
            if data := outgoing.read():
                writer.write(data)

        try:
            try:
                await asyncio.wait_for(self._handshake(tls, reader, writer, incoming, flush), 10)
            except (ssl.SSLError, asyncio.TimeoutError) as e:
                self.refusals.append(str(e) or type(e).__name__)
                if isinstance(e, ssl.SSLError) and e.reason == "HTTP_REQUEST":
                    writer.write(_PLAIN_HTTP_ANSWER)
                else:
                    flush()  # the alert, so the client hears why
                await writer.drain()
                return
            if tls.version() is None:
                return  # the client left during the handshake
            up_reader, up_writer = await asyncio.open_unix_connection(self._unix_path)
            pipes = [asyncio.ensure_future(self._to_engine(tls, reader, incoming, up_writer)),
                     asyncio.ensure_future(self._to_client(tls, up_reader, writer, flush))]
            try:
                # Either side ending ends the connection: HTTP clients never half-close here.
                await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pipe in pipes:
                    pipe.cancel()
                await asyncio.gather(*pipes, return_exceptions=True)
                up_writer.close()
        except OSError:
            pass  # either peer went away: nothing to tell anyone
        except asyncio.CancelledError:
            pass  # stop(): asyncio 3.11 would report a handler that ends cancelled as an error
        finally:
            writer.close()
            self._tasks.discard(task)

    @staticmethod
    async def _handshake(tls: ssl.SSLObject, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter, incoming: ssl.MemoryBIO,
                         flush: Callable[[], None]) -> None:
        while True:
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                flush()
                await writer.drain()
                data = await reader.read(65536)
                if not data:
                    return
                incoming.write(data)
            else:
                flush()
                return

    @staticmethod
    async def _to_engine(tls: ssl.SSLObject, reader: asyncio.StreamReader,
                         incoming: ssl.MemoryBIO, up_writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ssl.SSLError):  # SSLZeroReturnError (close_notify) included
            while True:
                # Decrypt what is buffered first: the request often arrives with the
                # handshake's last flight, before the next read would return anything.
                while True:
                    try:
                        plain = tls.read(65536)
                    except ssl.SSLWantReadError:
                        break
                    if not plain:
                        return
                    up_writer.write(plain)
                await up_writer.drain()
                data = await reader.read(65536)
                if not data:
                    return
                incoming.write(data)

    @staticmethod
    async def _to_client(tls: ssl.SSLObject, up_reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter, flush: Callable[[], None]) -> None:
        while data := await up_reader.read(65536):
            tls.write(data)
            flush()
            await writer.drain()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(concurrent.futures.TimeoutError):
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()


@dataclass
class TlsEndpoint:
    """``tcp://127.0.0.1:<port>`` with TLS and client certificates, in front of the engine."""

    files: TlsFiles
    proxy: TlsProxy

    @property
    def url(self) -> str:
        return f"tcp://{LOOPBACK}:{self.proxy.port}"

    @property
    def ca(self) -> Path:
        return self.files.ca

    @property
    def cert(self) -> Path:
        return self.files.client_cert

    @property
    def key(self) -> Path:
        return self.files.client_key

    @property
    def wrong_ca(self) -> Path:
        return self.files.wrong_ca

    def stop(self) -> None:
        self.proxy.stop()


def start_tls_endpoint(folder: Path, docker_host: str) -> TlsEndpoint:
    """Generate the certificates into ``folder`` and start the proxy; ``stop()`` it after."""
    files = make_tls_files(folder)
    proxy = TlsProxy(files, unix_socket_path(docker_host))
    proxy.start()
    return TlsEndpoint(files=files, proxy=proxy)


# --- SSH ----------------------------------------------------------------------------------


@dataclass
class SshEndpoint:
    """A private sshd on a loopback port that lets root in with one generated key, and a
    client setup that uses that key and pins the host key without touching ``~/.ssh``.

    docker-py (``use_ssh_client=True``) runs ``ssh`` from ``PATH`` with the caller's
    environment; ssh reads ``~/.ssh/config`` from the passwd home, not from ``$HOME``, so a
    changed ``HOME`` would not reach it. :meth:`client_env` instead puts an ``ssh`` wrapper
    that adds ``-F <our config>`` first on ``PATH``."""

    folder: Path
    docker_host: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)
    bin_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.folder / "sshd.log"
        self.bin_dir = self.folder / "bin"

    @property
    def url(self) -> str:
        return f"ssh://root@{LOOPBACK}:{self.port}"

    def start(self) -> SshEndpoint:
        unix_socket_path(self.docker_host)  # the sshd sessions need a local engine
        docker_cli = shutil.which("docker")
        if docker_cli is None:
            raise RuntimeError("the docker CLI is not on PATH: ssh sessions run "
                               "`docker system dial-stdio` with it")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        (self.folder / "docker-config").mkdir(exist_ok=True)
        # sshd refuses to start without its privilege-separation folder.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        host_key, client_key = self.folder / "host_key", self.folder / "client_key"
        for key in (host_key, client_key):
            if not key.exists():
                _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "moorings-test",
                     "-f", key)
        authorized = self.folder / "authorized_keys"
        authorized.write_text(Path(f"{client_key}.pub").read_text(encoding="utf-8"),
                              encoding="utf-8")
        # The session's PATH and DOCKER_HOST reach the engine; DOCKER_CONFIG keeps the remote
        # CLI away from root's ~/.docker.
        session_path = ":".join(dict.fromkeys(
            [str(Path(docker_cli).parent), "/usr/local/bin", "/usr/bin", "/bin"]))
        session_env = (f"PATH={session_path} DOCKER_HOST={self.docker_host} "
                       f"DOCKER_CONFIG={self.folder / 'docker-config'}")
        for _attempt in range(3):  # the port was free a moment ago; another may take it
            self.port = free_port()
            config = self.folder / "sshd_config"
            config.write_text(f"""\
Port {self.port}
ListenAddress {LOOPBACK}
HostKey {host_key}
PidFile {self.folder / "sshd.pid"}
AuthorizedKeysFile {authorized}
PermitRootLogin prohibit-password
AllowUsers root
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitUserEnvironment no
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PrintMotd no
SetEnv {session_env}
""", encoding="utf-8")
            _run(SSHD, "-t", "-f", config)
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    [SSHD, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                    stdout=log, stderr=log, start_new_session=True)
            if self._wait_listening():
                break
            self.stop()
        else:
            raise RuntimeError(f"sshd did not start; see {self.log}: "
                               f"{self.log.read_text(errors='replace')[-2000:]}")
        self._write_client_setup(host_key, client_key)
        return self

    def _wait_listening(self, timeout: float = 10.0) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            with contextlib.suppress(OSError), \
                    socket.create_connection((LOOPBACK, self.port), timeout=1) as s:
                if s.recv(64).startswith(b"SSH-"):
                    return True
            time.sleep(0.05)
        return False

    def _write_client_setup(self, host_key: Path, client_key: Path) -> None:
        known_hosts = self.folder / "known_hosts"
        key_type, key_data = Path(f"{host_key}.pub").read_text(encoding="utf-8").split()[:2]
        known_hosts.write_text(f"[{LOOPBACK}]:{self.port} {key_type} {key_data}\n",
                               encoding="utf-8")
        ssh_config = self.folder / "ssh_config"
        # BatchMode: never a prompt; the host key is pinned, not trusted on first use.
        ssh_config.write_text(f"""\
Host *
  IdentityFile {client_key}
  IdentitiesOnly yes
  IdentityAgent none
  BatchMode yes
  StrictHostKeyChecking yes
  UserKnownHostsFile {known_hosts}
  GlobalKnownHostsFile /dev/null
  ControlMaster no
  ControlPath none
  LogLevel ERROR
""", encoding="utf-8")
        self.bin_dir.mkdir(exist_ok=True)
        wrapper = self.bin_dir / "ssh"
        ssh = shutil.which("ssh") or SSH  # looked up before client_env() shadows it
        wrapper.write_text(f'#!/bin/sh\nexec {ssh} -F "{ssh_config}" "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)

    @contextlib.contextmanager
    def client_env(self) -> Iterator[None]:
        """While open, ``ssh`` (as docker-py runs it, for every new connection) is our wrapper.
        Keep it open for as long as an ``ssh://`` client is used."""
        saved = os.environ.get("PATH")
        os.environ["PATH"] = os.pathsep.join(filter(None, [str(self.bin_dir), saved]))
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop("PATH", None)
            else:
                os.environ["PATH"] = saved

    def stop(self) -> None:
        """Stop sshd and the per-connection sshd processes it forked (each in its own session,
        so they outlive the listener when a client never hung up)."""
        if self.process is None:
            return
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            for pid in children.read_text().split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGTERM)
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

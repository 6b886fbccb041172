"""Small loopback servers that misbehave (or plainly forward) for the engine-connection tests."""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

LOOPBACK = "127.0.0.1"
SSH_BANNER = b"SSH-2.0-OpenSSH_9.2p1 moorings-test\r\n"


class _Server:
    """Listens on a free loopback port and serves each connection on a daemon thread until
    :meth:`stop`, which closes the listener and every connection."""

    def __init__(self) -> None:
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port: int = self._listener.getsockname()[1]
        self.accepted = threading.Event()  # set once a connection came in
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, name=type(self).__name__,
                                        daemon=True)

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def start(self) -> _Server:
        self._thread.start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._stopped:
                    conn.close()
                    return
                self._sockets.append(conn)
            self.accepted.set()
            threading.Thread(target=self._serve_safely, args=(conn,), daemon=True).start()

    def _serve_safely(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            self.serve(conn)

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            sockets, self._sockets = self._sockets, []
        for sock in [self._listener, *sockets]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._thread.join(5)

    def __enter__(self) -> _Server:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class SilentServer(_Server):
    """Accepts every connection and never sends a byte (a port that is not what it seems)."""

    def serve(self, conn: socket.socket) -> None:
        while conn.recv(65536):
            pass


class SshBannerServer(_Server):
    """Sends an SSH banner, then reads and answers nothing: a server stuck in the handshake."""

    def serve(self, conn: socket.socket) -> None:
        conn.sendall(SSH_BANNER)
        while conn.recv(65536):
            pass


class PlainEngineProxy(_Server):
    """``tcp://127.0.0.1:<port>`` in plain HTTP in front of the engine's unix socket, as a
    dockerd with ``-H tcp://0.0.0.0:2375`` would listen."""

    def __init__(self, unix_path: str) -> None:
        super().__init__()
        self._unix_path = unix_path

    @property
    def url(self) -> str:
        return f"tcp://{self.address}"

    def serve(self, conn: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(self._unix_path)
        self.track(upstream)
        back = threading.Thread(target=_pipe, args=(upstream, conn), daemon=True)
        back.start()
        _pipe(conn, upstream)
        back.join(5)


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    # Either side ending ends the connection: HTTP clients never half-close here.
    for sock in (src, dst):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class SilentUnixServer:
    """A unix socket that accepts and never answers: an engine that hangs."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="silent-unix", daemon=True)

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._conns.append(conn)

    def __enter__(self) -> SilentUnixServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for sock in [self._listener, *self._conns]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._thread.join(5)

"""The system ssh client as the engine's transport: no prompts, bounded, ended with Moorings."""

from __future__ import annotations

import atexit
import contextlib
import heapq
import io
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3.connection
import urllib3.connectionpool
from docker.transport.basehttpadapter import BaseHTTPAdapter
from urllib3._collections import RecentlyUsedContainer

# What we give ssh when the engineer's ssh configuration says nothing (``ssh -G`` tells).
DEFAULT_CONNECT_TIMEOUT_S = 10
DEFAULT_ALIVE_INTERVAL_S = 15
# ssh's ConnectTimeout covers the TCP connect and the banner; a server that sends a banner and
# then stalls (key exchange, login) would hold ssh forever. The login gets as long again.
LOGIN_FACTOR = 2
# A request sent without a read timeout (the event stream, followed logs) still gets an answer
# within this, or the connection ends: the engine sends a stream's headers at once.
STREAM_ANSWER_S = 60.0
# How long a failed connection waits for its ssh child to exit, to read why it failed.
_EXIT_WAIT_S = 2.0
_TERM_WAIT_S = 1.0
_STDERR_MAX = 64 * 1024
_LOGIN_MARK = b"Authenticated to "
# Less detailed than VERBOSE, ssh would not say when the login succeeded.
_QUIET_LEVELS = frozenset({"quiet", "fatal", "error", "info"})


@dataclass(frozen=True)
class SshHost:
    """``ssh://[USER@]HOST[:PORT]`` taken apart."""

    url: str
    host: str
    user: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, url: str) -> SshHost:
        parts = urlsplit(url)
        if parts.scheme != "ssh" or not parts.hostname:
            raise ValueError(f"not an ssh:// URL with a host: {url}")
        return cls(url=url.rstrip("/"), host=parts.hostname, user=parts.username,
                   port=parts.port)

    @property
    def login(self) -> str:
        """What a person would type: ``ssh [-p PORT] [USER@]HOST``."""
        port = f"-p {self.port} " if self.port else ""
        who = f"{self.user}@" if self.user else ""
        return f"ssh {port}{who}{self.host}"


@dataclass(frozen=True)
class SshOptions:
    """The ssh command line for one host, and the bounds it implies."""

    argv: tuple[str, ...]
    connect_timeout_s: int
    login_timeout_s: int
    alive_s: int | None  # how long a silent connection lives (ServerAliveInterval x CountMax)
    multiplexed: bool  # an existing ControlMaster carries the sessions: no login of our own

    @classmethod
    def for_host(cls, host: SshHost, ssh: str | None = None) -> SshOptions:
        """Ask ``ssh -G`` (no network) what the engineer's configuration sets for ``host``,
        and fill in only what it leaves open; BatchMode and ControlMaster=no are always set."""
        ssh = ssh or shutil.which("ssh") or "ssh"
        target: list[str] = []
        if host.user:
            target += ["-l", host.user]
        if host.port:
            target += ["-p", str(host.port)]
        # BatchMode=no for the question only: with BatchMode on, ssh reports a keepalive of
        # 300 s that nobody chose.
        config = _effective_config(ssh, ["-o", "BatchMode=no", *target], host.host)
        # Never a prompt (there is no one to answer it); never become a ControlMaster whose
        # sessions would outlive Moorings, but use an engineer's running master.
        options = ["-T", "-o", "BatchMode=yes", "-o", "ControlMaster=no"]
        connect = _int(config.get("connecttimeout"))
        if connect is None or connect <= 0:
            connect = DEFAULT_CONNECT_TIMEOUT_S
            options += ["-o", f"ConnectTimeout={connect}"]
        interval = _int(config.get("serveraliveinterval"))
        if interval is None or interval <= 0:
            interval = DEFAULT_ALIVE_INTERVAL_S
            options += ["-o", f"ServerAliveInterval={interval}"]
        count = _int(config.get("serveralivecountmax"))
        if count is None or count <= 0:
            count = 3
        if config.get("loglevel", "info").lower() in _QUIET_LEVELS:
            options += ["-o", "LogLevel=VERBOSE"]
        control = config.get("controlpath", "none")
        multiplexed = control != "none" and _is_socket(control)
        argv = (ssh, *options, *target, "--", host.host, "docker system dial-stdio")
        return cls(argv=argv, connect_timeout_s=connect,
                   login_timeout_s=LOGIN_FACTOR * connect, alive_s=interval * count,
                   multiplexed=multiplexed)


def _effective_config(ssh: str, target: list[str], host: str) -> dict[str, str]:
    try:
        done = subprocess.run([ssh, "-G", *target, "--", host], capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return {}
    if done.returncode != 0:
        return {}
    config: dict[str, str] = {}
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(" ")
        config.setdefault(key.lower(), value.strip())
    return config


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


# --- what went wrong ---------------------------------------------------------------------


class SshFailure(ConnectionError):
    """The ssh child ended the connection with an error: what ssh (or the remote command)
    said is in ``lines``; errors.py turns it into a sentence."""

    def __init__(self, host: SshHost, options: SshOptions, code: int | None, lines: list[str],
                 *, login_timed_out: bool = False, no_client: bool = False,
                 ended_by_moorings: bool = False) -> None:
        detail = (lines[-1] if lines else "no ssh client" if no_client
                  else "ended by Moorings" if ended_by_moorings else f"exit code {code}")
        super().__init__(f"ssh to {host.url} failed: {detail}")
        self.host = host
        self.options = options
        self.code = code
        self.lines = lines
        self.login_timed_out = login_timed_out
        self.no_client = no_client  # there is no ssh program to run
        self.ended_by_moorings = ended_by_moorings  # the client was closed, or Moorings stops


class SshTimeout(TimeoutError):
    """No answer through a live ssh connection within ``seconds``."""

    def __init__(self, host: SshHost, seconds: float | None, *, logged_in: bool) -> None:
        super().__init__(f"no answer through ssh from {host.url} within {seconds} s")
        self.host = host
        self.seconds = seconds
        self.logged_in = logged_in


# --- one ssh child -----------------------------------------------------------------------


class _Child:
    """One ``ssh … docker system dial-stdio`` process, talking through a socket pair.

    Its stdin and stdout are one end of the pair, so our end is a real socket: read timeouts,
    shutdown() from another thread, and select() all work as on TCP. If Moorings is killed,
    the kernel closes our end and a logged-in ssh reads EOF and exits; one still in its
    handshake ends at its ConnectTimeout (the login watchdog died with Moorings)."""

    def __init__(self, host: SshHost, options: SshOptions) -> None:
        self.host = host
        self.options = options
        self.received = False
        self._lock = threading.Lock()
        self._ending = False
        self.login_timed_out = False
        ours, theirs = socket.socketpair()
        # A file, not a pipe: nobody has to drain it while the connection lives. Once the
        # child is reaped its words are kept in memory and the file is closed.
        self._stderr = tempfile.TemporaryFile(prefix="moorings-ssh-")  # noqa: SIM115
        self._stderr_kept: bytes | None = None
        env = dict(os.environ)
        for name in ("LD_LIBRARY_PATH", "SSL_CERT_FILE"):  # as docker-py does
            env.pop(name, None)
        try:
            # Its own session: no terminal to prompt on, and a Ctrl-C meant for Moorings does
            # not reach it; Moorings ends it.
            self.proc = subprocess.Popen(options.argv, stdin=theirs.fileno(),
                                         stdout=theirs.fileno(), stderr=self._stderr,
                                         env=env, start_new_session=True, close_fds=True)
        except BaseException as exc:
            ours.close()
            self._stderr.close()
            if isinstance(exc, FileNotFoundError):
                raise SshFailure(host, options, None, [], no_client=True) from exc
            raise
        finally:
            theirs.close()
        self.sock = SshSocket(self, ours)
        _registry.add(self)
        if not options.multiplexed:
            _watchdog.watch(self, time.monotonic() + options.login_timeout_s)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr_text(self, limit: int = _STDERR_MAX) -> str:
        if self._stderr_kept is not None:
            return self._stderr_kept[:limit].decode("utf-8", "replace")
        try:
            data = os.pread(self._stderr.fileno(), limit, 0)
        except (OSError, ValueError):
            return ""
        return data.decode("utf-8", "replace")

    def logged_in(self) -> bool:
        if self.received or self.options.multiplexed:
            return True
        return _LOGIN_MARK.decode() in self.stderr_text()

    def check_login(self) -> None:
        """The watchdog's call at the login deadline."""
        if self.proc.poll() is None and not self.logged_in():
            self.login_timed_out = True
            self.end()

    def failure(self) -> SshFailure | None:
        """Why the connection ended: ssh or the remote command failed, or Moorings ended it
        (closing the client, or stopping); None if it ended normally."""
        try:
            code = self.proc.wait(_EXIT_WAIT_S)
        except subprocess.TimeoutExpired:
            return None
        if self.login_timed_out:
            return SshFailure(self.host, self.options, code, self._lines(),
                              login_timed_out=True)
        if self._ending:
            return SshFailure(self.host, self.options, code, [], ended_by_moorings=True)
        if code == 0:
            return None
        return SshFailure(self.host, self.options, code, self._lines())

    def timed_out(self, seconds: float | None) -> SshTimeout:
        return SshTimeout(self.host, seconds, logged_in=self.logged_in())

    def _lines(self) -> list[str]:
        noise = ("Authenticated to ", "Transferred: ", "Bytes per second", "debug")
        lines = [line.strip() for line in self.stderr_text().splitlines()]
        return [line for line in lines if line and not line.startswith(noise)]

    def end(self) -> None:
        """End the child (TERM, then KILL) and reap it. Safe from any thread, more than once."""
        with self._lock:
            if self._ending:
                return
            self._ending = True
        _watchdog.forget(self)
        # Wakes a thread blocked reading our end at once.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(_TERM_WAIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(_TERM_WAIT_S)
        _registry.discard(self)
        if self.proc.poll() is not None:
            # It says nothing more: keep what it said (failure() reads it) and close the file.
            with contextlib.suppress(OSError, ValueError):
                self._stderr_kept = os.pread(self._stderr.fileno(), _STDERR_MAX, 0)
            self._stderr.close()


class SshSocket(socket.socket):
    """Our end of the pair. Its reader turns an EOF or a timeout into what ssh said."""

    def __init__(self, child: _Child, ours: socket.socket) -> None:
        super().__init__(ours.family, ours.type, ours.proto, fileno=ours.detach())
        self.child = child

    def abort(self) -> None:
        """End the connection now, from any thread: its ssh child goes, a blocked read
        returns at once."""
        self.child.end()

    def makefile(self, mode: str = "r", buffering: int | None = None, **kwargs: Any) -> Any:
        if mode != "rb":
            return super().makefile(mode, buffering, **kwargs)  # type: ignore[call-overload]
        self._io_refs += 1  # type: ignore[attr-defined]  # what socket.makefile does
        size = buffering if buffering and buffering > 0 else io.DEFAULT_BUFFER_SIZE
        return io.BufferedReader(_SshReader(self), size)

    def _real_close(self, *args: Any) -> None:
        # Nobody reads or writes this connection any more: its ssh child goes too.
        self.child.end()
        super()._real_close(*args)  # type: ignore[misc]


class _SshReader(socket.SocketIO):
    def __init__(self, sock: SshSocket) -> None:
        super().__init__(sock, "rb")
        self._child = sock.child

    def readinto(self, b: Any) -> int | None:
        try:
            n = super().readinto(b)
        except TimeoutError as exc:
            timeout = self._child.sock.gettimeout() if not self.closed else None
            raise self._child.timed_out(timeout) from exc
        except OSError as exc:
            failure = self._child.failure()
            if failure is not None:
                raise failure from exc
            raise
        if n == 0:
            failure = self._child.failure()
            if failure is not None:
                raise failure
        elif n:
            self._child.received = True
        return n


# --- every child, for ending them together -------------------------------------------------


class _Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._children: set[_Child] = set()

    def add(self, child: _Child) -> None:
        with self._lock:
            # Reap the children that ended by themselves (the remote closed, say).
            for old in [c for c in self._children if c.proc.poll() is not None]:
                self._children.discard(old)
            self._children.add(child)

    def discard(self, child: _Child) -> None:
        with self._lock:
            self._children.discard(child)

    def children(self, url: str | None = None) -> list[_Child]:
        with self._lock:
            return [c for c in self._children if url is None or c.host.url == url.rstrip("/")]


_registry = _Registry()


def live_children(url: str | None = None) -> list[int]:
    """The process ids of the ssh children still running (for ``url`` only, if given)."""
    return [c.pid for c in _registry.children(url) if c.proc.poll() is None]


def end_children(url: str | None = None) -> None:
    """End every ssh child Moorings started (for ``url`` only, if given), whoever uses it."""
    for child in _registry.children(url):
        child.end()


atexit.register(end_children)


class _Watchdog:
    """One thread that ends the children whose login is not done by its deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Child]] = []
        self._count = 0
        self._thread: threading.Thread | None = None

    def watch(self, child: _Child, deadline: float) -> None:
        with self._cond:
            self._count += 1
            heapq.heappush(self._heap, (deadline, self._count, child))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="moorings-ssh-login",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()

    def forget(self, child: _Child) -> None:
        with self._cond:
            self._heap = [entry for entry in self._heap if entry[2] is not child]
            heapq.heapify(self._heap)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                deadline, _, child = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            child.check_login()


_watchdog = _Watchdog()


# --- the HTTP side -----------------------------------------------------------------------


class _SshConnection(urllib3.connection.HTTPConnection):
    def __init__(self, adapter: SshAdapter, timeout: Any) -> None:
        super().__init__("localhost", timeout=timeout)
        self._adapter = adapter

    def _new_conn(self) -> socket.socket:
        child = self._adapter.spawn()
        child.sock.settimeout(self.timeout if isinstance(self.timeout, (int, float)) else None)
        return child.sock

    def getresponse(self) -> Any:
        if self.timeout is not None:
            return super().getresponse()
        # No read timeout (a stream): the answer's headers must still come.
        sock = self.sock
        self.timeout = STREAM_ANSWER_S
        try:
            response = super().getresponse()
        finally:
            self.timeout = None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.settimeout(None)
        return response


class _SshPool(urllib3.connectionpool.HTTPConnectionPool):
    scheme = "ssh"

    def __init__(self, adapter: SshAdapter, timeout: float, maxsize: int) -> None:
        super().__init__("localhost", timeout=timeout, maxsize=maxsize)
        self._adapter = adapter

    def _new_conn(self) -> Any:
        self.num_connections += 1
        return _SshConnection(self._adapter, timeout=self.timeout.connect_timeout)


_POOL_KEY = "http+docker://ssh"


class SshAdapter(BaseHTTPAdapter):  # type: ignore[misc]
    """requests' transport for ``http+docker://ssh``: one ssh child per pooled connection
    (kept alive between requests), every one of them ended by :meth:`close`."""

    def __init__(self, url: str, timeout: float, *, max_pool_size: int = 10,
                 pool_connections: int = 25) -> None:
        self.host = SshHost.parse(url)
        self.options = SshOptions.for_host(self.host)
        self.timeout = timeout
        self.max_pool_size = max_pool_size
        self.pools: RecentlyUsedContainer[str, _SshPool] = RecentlyUsedContainer(
            pool_connections, dispose_func=lambda p: p.close())
        self._lock = threading.Lock()
        self._children: list[_Child] = []
        self._closed = False
        super().__init__()

    def spawn(self) -> _Child:
        with self._lock:
            if self._closed:
                raise SshFailure(self.host, self.options, None, [], ended_by_moorings=True)
            child = _Child(self.host, self.options)
            self._children = [c for c in self._children if c.proc.poll() is None]
            self._children.append(child)
            return child

    def get_connection(self, url: str, proxies: Mapping[str, str] | None = None) -> _SshPool:
        # One pool for every path: each new connection costs an ssh login, so keep-alive
        # connections serve every request (docker-py's adapters keep a pool per URL).
        with self.pools.lock:
            pool: _SshPool | None = self.pools.get(_POOL_KEY)
            if pool is None:
                pool = _SshPool(self, self.timeout, self.max_pool_size)
                self.pools[_POOL_KEY] = pool
        return pool

    def close(self) -> None:
        with self._lock:
            self._closed = True
            children, self._children = self._children, []
        try:
            super().close()
        finally:
            # The pools only know their idle connections; a stream in use has one too.
            for child in children:
                child.end()


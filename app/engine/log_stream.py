"""A container's logs, read (and followed) on a thread of their own; close() ends them at once."""

from __future__ import annotations

import logging
import re
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple
from urllib.parse import quote

import docker.errors
import requests.exceptions
from docker.types.daemon import CancellableStream

from app.engine.errors import explain
from app.engine.hosts import EngineTarget
from app.engine.times import parse_rfc3339
from app.fields.logger import READABLE_DRIVERS

log = logging.getLogger(__name__)

STDOUT = "stdout"
STDERR = "stderr"
# The engine's stream header: one byte for the stream, three zero, four for the length.
_HEADER = struct.Struct(">BxxxL")
_STREAMS = {1: STDOUT, 2: STDERR}
_TIMESTAMP = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ?")


class LogLine(NamedTuple):
    """One line of a container's output: the engine's RFC 3339 time, the text without its line
    end, and the stream it was written to (``stdout`` or ``stderr``)."""

    timestamp: str
    text: str
    stream: str

    @property
    def time(self) -> float | None:
        """The timestamp in epoch seconds."""
        return parse_rfc3339(self.timestamp)


# on_line(timestamp, text, stream): a LogLine's fields, as positional arguments.
LineCallback = Callable[[str, str, str], None]
# on_end(sentence): "" when the logs simply ended (all read, or a followed container stopped);
# else why there are none (a log driver the engine cannot read back, no such container...).
EndCallback = Callable[[str], None]


def logs_readable(driver: str) -> bool:
    """True if the engine can always read back what ``driver`` logs (json-file, local,
    journald). Engines from 20.10 also keep a local copy of other drivers' logs ("dual
    logging") unless it is turned off, so :func:`open_logs` still tries those."""
    return driver in READABLE_DRIVERS


def unreadable_sentence(driver: str) -> str:
    if driver == "none":
        return ("this container's logging is turned off (log driver none), so the engine keeps "
                "no logs to show; choose another Logger Type to read them here")
    return (f"this container logs to {driver}, which the engine cannot read back; read the "
            f"logs where {driver} sends them")


def _refused_reading(exc: BaseException) -> bool:
    text = str(getattr(exc, "explanation", "") or exc).lower()
    return "does not support reading" in text or ("logging driver" in text and "read" in text)


class _Lines:
    """Cuts one stream's bytes into lines, each with the time of the message it starts in."""

    def __init__(self, stream: str) -> None:
        self._stream = stream
        self._pending = b""
        self._stamp = ""

    def feed(self, data: bytes, *, framed: bool) -> Iterator[LogLine]:
        if framed:
            # One frame is one message, stamped at its start; a long line the engine split
            # into parts arrives as several stamped frames, of which the first stamp counts.
            m = _TIMESTAMP.match(data)
            if m:
                if not self._pending:
                    self._stamp = m.group(1).decode("ascii")
                data = data[m.end():]
            self._pending += data
            while b"\n" in self._pending:
                line, self._pending = self._pending.split(b"\n", 1)
                yield self._line(line)
            return
        # A TTY's raw stream comes in arbitrary pieces; each line starts with its stamp.
        self._pending += data
        while b"\n" in self._pending:
            line, self._pending = self._pending.split(b"\n", 1)
            m = _TIMESTAMP.match(line)
            if m:
                self._stamp = m.group(1).decode("ascii")
                line = line[m.end():]
            yield self._line(line)

    def rest(self) -> Iterator[LogLine]:
        """The last line when the stream ended without a line end."""
        if self._pending:
            line, self._pending = self._pending, b""
            m = _TIMESTAMP.match(line)
            if m:
                self._stamp = m.group(1).decode("ascii")
                line = line[m.end():]
            yield self._line(line)

    def _line(self, raw: bytes) -> LogLine:
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        return LogLine(self._stamp, text, self._stream)


def _frames(response: Any) -> Iterator[tuple[str, bytes]]:
    """(stream, data) for each frame of a multiplexed (non-TTY) response.

    docker-py's own ``logs(stream=True)`` drops the stream byte of each frame, so stdout and
    stderr could not be told apart; this reads the same frames and keeps it.
    """
    raw = response.raw
    while True:
        header = raw.read(_HEADER.size)
        if not header or len(header) < _HEADER.size:
            return
        kind, length = _HEADER.unpack(header)
        if not length:
            continue
        data = raw.read(length)
        if not data:
            return
        yield _STREAMS.get(kind, STDOUT), data


def _raw(response: Any) -> Iterator[tuple[str, bytes]]:
    """A TTY container's stream: one unframed byte stream (its stderr is merged into it)."""
    raw = response.raw
    # The engine sends logs chunked: each chunk as it comes. Unchunked, only byte by byte
    # would deliver a followed line without waiting for more (as docker-py does).
    chunks = (raw.stream(None, decode_content=False) if getattr(raw, "chunked", False)
              else response.iter_content(1, False))
    for chunk in chunks:
        if chunk:
            yield STDOUT, chunk


class LogStream:
    """Reads one container's logs on its own thread with its own client (no read timeout: a
    quiet followed container is not an error) and delivers them line by line.

    ``on_line(timestamp, text, stream)`` and ``on_end(sentence)`` are called on the reader's
    thread. ``on_end`` is called once when the logs end by themselves (``""``) or cannot be
    read (a sentence); never after :meth:`close`.
    """

    def __init__(self, target: EngineTarget, container_id: str, *, follow: bool,
                 tail: int | str = 500, on_line: LineCallback, on_end: EndCallback,
                 not_connected: str | None = None) -> None:
        self._target = target
        self._id = container_id
        self._follow = follow
        self._tail = tail
        self._on_line = on_line
        self._on_end = on_end
        self._not_connected = not_connected
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._api: Any = None
        self._stream: CancellableStream | None = None
        self._thread = threading.Thread(target=self._run, name="moorings-logs", daemon=True)
        self.driver: str | None = None

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        """End the reader at once (shuts its socket down); never waits on the engine."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            stream, api = self._stream, self._api
        if stream is not None:
            try:
                stream.close()
            except Exception:  # an SSH engine's stream cannot be cancelled: closing the client
                log.debug("closing the log stream failed", exc_info=True)
        if api is not None:
            try:
                api.close()
            except Exception:
                log.debug("closing the log client failed", exc_info=True)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the reader thread to end; True if it has."""
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _end(self, reason: str) -> None:
        if self._closed.is_set():
            return
        try:
            self._on_end(reason)
        except Exception:
            log.exception("a log end callback failed")

    def _run(self) -> None:
        if self._not_connected is not None:
            self._end(self._not_connected)
            return
        name = self._id[:12]
        try:
            api = self._target.api_client(timeout=None)
            with self._lock:
                if self._closed.is_set():
                    api.close()
                    return
                self._api = api
            info = api.inspect_container(self._id)
            name = str(info.get("Name") or name).lstrip("/")
            log_config = (info.get("HostConfig") or {}).get("LogConfig") or {}
            self.driver = str(log_config.get("Type") or "")
            if self.driver == "none":
                self._end(unreadable_sentence(self.driver))
                return
            tty = bool((info.get("Config") or {}).get("Tty"))
            self._read(api, tty)
        except Exception as exc:  # noqa: BLE001 - reported through on_end, never raised
            if self._closed.is_set():
                return
            if isinstance(exc, docker.errors.APIError) and _refused_reading(exc):
                self._end(unreadable_sentence(self.driver or "its log driver"))
                return
            self._end(explain(exc, action=f"reading the logs of {name}",
                              engine=self._target.url))
            return
        finally:
            with self._lock:
                api, self._api = self._api, None
            if api is not None:
                try:
                    api.close()
                except Exception:
                    log.debug("closing the log client failed", exc_info=True)
        self._end("")

    def _read(self, api: Any, tty: bool) -> None:
        params: dict[str, Any] = {"stdout": 1, "stderr": 1, "timestamps": 1,
                                  "follow": 1 if self._follow else 0, "tail": self._tail}
        # docker-py's logs(stream=True) would lose which stream each line came from; this is
        # the same request, read frame by frame below.
        # The SDK's public session calls: the same URL its own logs() builds.
        url = f"{api.base_url}/v{api.api_version}/containers/{quote(self._id, safe='')}/logs"
        response = api.get(url, params=params, stream=True)
        try:
            response.raise_for_status()
        except requests.exceptions.HTTPError as exc:
            raise docker.errors.create_api_error_from_http_exception(exc) from exc
        frames = _raw(response) if tty else _frames(response)
        stream = CancellableStream(frames, response)
        with self._lock:
            if self._closed.is_set():
                stream.close()
                return
            self._stream = stream
        splitters = {STDOUT: _Lines(STDOUT), STDERR: _Lines(STDERR)}
        try:
            # Iterate the frames themselves, not the CancellableStream: it turns a broken
            # connection into a quiet end, and a broken engine must be reported.
            for kind, data in frames:
                for line in splitters[kind].feed(data, framed=not tty):
                    if self._closed.is_set():
                        return
                    self._on_line(*line)
        except Exception:
            if self._closed.is_set():
                return
            raise
        for splitter in splitters.values():
            for line in splitter.rest():
                if self._closed.is_set():
                    return
                self._on_line(*line)



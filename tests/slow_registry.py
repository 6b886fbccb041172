"""A misbehaving TCP proxy in front of the test registry, for pull deadline tests.

Usage::

    with SlowRegistry(test_env.registry, "hang-on-manifest") as proxy:
        reference = f"{proxy.address}/moorings-test/busybox:{unique_tag}"
        ...  # the engine pulls through 127.0.0.1:<proxy.port>; same credentials

Modes:

``"hang-on-manifest"``
    Requests are forwarded normally (the ``/v2/`` ping, auth challenges, blobs) until a
    request's path contains ``/manifests/``: that request is not forwarded and the connection
    is never answered again (it stays open until :meth:`stop`). :attr:`SlowRegistry.held` is
    set when that happens. The engine does not give up on a stalled manifest request when
    its client goes away, so give each test its own repository or tag.
``"slow"``
    Everything is forwarded, but answers (registry to client) trickle at ``rate`` bytes per
    second, shared by all connections: progress items keep coming, only a deadline ends it.
``"reset-mid-blob"``
    Everything is forwarded, except that the answer to a ``GET`` of a blob larger than 4 KiB
    (or of the rest of it, when the engine retries) is cut after half its body by a TCP reset
    (RST, not a clean close), every time.
    :attr:`SlowRegistry.resets` counts them.

The proxy listens on 127.0.0.1 on a free port and runs an asyncio loop in a daemon thread.
:meth:`stop` closes every connection, so the engine's pending requests fail at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import struct
import threading
import time
from types import TracebackType

MODES = ("hang-on-manifest", "slow", "reset-mid-blob")
_RESET_MIN_BODY = 4096
_CHUNK_S = 0.05  # the slow mode's pacing step: small enough for steady progress items
_HEAD_LIMIT = 64 * 1024
_REQUEST_LINE = re.compile(rb"^[A-Z]+ (\S+) HTTP/1\.[01]$")


class SlowRegistry:
    """A proxy to ``upstream`` (``host:port``) that hangs or trickles; see the module doc."""

    def __init__(self, upstream: str, mode: str, *, rate: int = 20_000) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if rate <= 0:
            raise ValueError("rate must be positive")
        host, _, port = upstream.rpartition(":")
        self.upstream = (host, int(port))
        self.mode = mode
        self.rate = rate
        self.port = 0
        self.held = threading.Event()  # hang-on-manifest: a manifest request was held
        self.requests: list[str] = []  # hang-on-manifest: request paths seen, in order
        self.resets = 0  # reset-mid-blob: answers cut by a reset
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._next_send = 0.0

    @property
    def connections(self) -> int:
        """How many connections (from the engine) are open through the proxy now."""
        return len(self._tasks)

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``: use it as the registry host in image references."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> SlowRegistry:
        """Listen and serve in a background thread; returns self once listening."""
        if self._thread is not None:
            raise RuntimeError("already started")
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(loop, ready), name="slow-registry", daemon=True
        )
        self._thread.start()
        if not ready.wait(10) or self._server is None:
            raise RuntimeError("the slow registry proxy did not start")
        return self

    def stop(self) -> None:
        """Close the listener and every connection, and end the thread. Idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> SlowRegistry:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- the loop's side ---------------------------------------------------------------

    def _run(self, loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)

        async def listen() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]

        try:
            loop.run_until_complete(listen())
        finally:
            ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(client_w)
        upstream_w: asyncio.StreamWriter | None = None
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*self.upstream)
            self._writers.add(upstream_w)
            if self.mode == "slow":
                up = self._pipe(client_r, upstream_w)
                down = self._trickle(upstream_r, client_w)
            elif self.mode == "reset-mid-blob":
                blob_gets: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()
                up = self._forward_requests(client_r, upstream_w, blob_gets)
                down = self._reset_blob_answers(upstream_r, client_w, blob_gets)
            else:
                up = self._forward_until_manifest(client_r, upstream_w)
                down = self._pipe(upstream_r, client_w)
            # One direction ending (either side closed) ends the connection.
            pending = {asyncio.ensure_future(up), asyncio.ensure_future(down)}
            try:
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for p in pending:
                    p.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # a broken or odd connection ends just that connection
        except asyncio.CancelledError:
            # stop(): end quietly. A handler task that ends cancelled makes Python 3.11's
            # asyncio log a spurious "Exception in callback" for it.
            pass
        finally:
            for w in (client_w, upstream_w):
                if w is not None:
                    w.close()
                    self._writers.discard(w)
            self._tasks.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()

    async def _trickle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        step = max(1, int(self.rate * _CHUNK_S))
        while data := await reader.read(step):
            # One schedule for all connections: the rate is the proxy's, not per connection.
            now = time.monotonic()
            send_at = max(now, self._next_send)
            self._next_send = send_at + len(data) / self.rate
            await asyncio.sleep(send_at - now)
            writer.write(data)
            await writer.drain()

    async def _forward_until_manifest(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Forward whole requests (head, then a Content-Length or chunked body) until one asks
        for a manifest; then swallow everything the client sends, answering nothing."""
        first = await reader.read(1)
        if not first:
            return
        if not first.isalpha():  # not HTTP (a TLS hello, say): no requests to look at
            writer.write(first)
            await self._pipe(reader, writer)
            return
        pending = first
        while True:
            try:
                head = pending + await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                head = pending + await reader.read(_HEAD_LIMIT)
            except asyncio.IncompleteReadError:
                return
            pending = b""
            line = head.split(b"\r\n", 1)[0]
            m = _REQUEST_LINE.match(line)
            path = m.group(1).decode("latin-1") if m else ""
            self.requests.append(path)
            if "/manifests/" in path:
                self.held.set()
                while await reader.read(65536):
                    pass  # hold the connection open; end when the client closes it
                return
            writer.write(head)
            await self._forward_body(head, reader, writer)
            await writer.drain()

    async def _forward_requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
        blob_gets: asyncio.Queue[tuple[str, bool]],
    ) -> None:
        """Forward whole requests, telling the answer side each one's method and whether it
        asks for a blob."""
        first = await reader.read(1)
        if not first:
            return
        if not first.isalpha():  # not HTTP (the engine tries TLS first): pass it through
            blob_gets.put_nowait(("", False))
            writer.write(first)
            await self._pipe(reader, writer)
            return
        pending = first
        while True:
            try:
                head = pending + await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            pending = b""
            m = _REQUEST_LINE.match(head.split(b"\r\n", 1)[0])
            path = m.group(1).decode("latin-1") if m else ""
            self.requests.append(path)
            method = head.split(b" ", 1)[0].decode("latin-1")
            blob_gets.put_nowait((method, "/blobs/" in path))
            writer.write(head)
            await self._forward_body(head, reader, writer)
            await writer.drain()

    async def _reset_blob_answers(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
        blob_gets: asyncio.Queue[tuple[str, bool]],
    ) -> None:
        """Forward answers in request order; cut a big blob's body in half with a reset."""
        while True:
            method, is_blob = await blob_gets.get()
            if not method:
                await self._pipe(reader, writer)
                return
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            length = re.search(rb"\r\ncontent-length:\s*(\d+)", head.lower())
            size = int(length.group(1)) if length else 0
            if method == "HEAD" or head.startswith((b"HTTP/1.1 204", b"HTTP/1.1 304")):
                writer.write(head)  # no body, whatever Content-Length says
                await writer.drain()
                continue
            # 206: the engine's retry asks for the rest of the blob with a Range request.
            if is_blob and method == "GET" and head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 206")) \
                    and size > _RESET_MIN_BODY:
                writer.write(head + await reader.readexactly(size // 2))
                await writer.drain()
                self.resets += 1
                sock = writer.get_extra_info("socket")
                # SO_LINGER 0: close() sends RST, as a crashing middlebox or registry would.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            writer.write(head)
            await self._forward_body(head, reader, writer)
            await writer.drain()

    async def _forward_body(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        headers = head.lower()
        length = re.search(rb"\r\ncontent-length:\s*(\d+)", headers)
        if length:
            left = int(length.group(1))
            while left > 0:
                data = await reader.read(min(left, 65536))
                if not data:
                    return
                writer.write(data)
                left -= len(data)
        elif re.search(rb"\r\ntransfer-encoding:[^\r\n]*chunked", headers):
            while True:
                size_line = await reader.readuntil(b"\r\n")
                writer.write(size_line)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # Trailers (usually none), then the final empty line.
                    while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                        writer.write(trailer)
                    writer.write(b"\r\n")
                    return
                writer.write(await reader.readexactly(size + 2))  # data and its CRLF


def main(argv: list[str] | None = None) -> int:
    """Run the proxy as its own process (benchmarks keep its work out of the measured one):
    prints ``PORT <n>`` once listening, serves until stdin closes."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("upstream", help="host:port of the registry")
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--rate", type=int, default=20_000, help="bytes per second (slow)")
    args = parser.parse_args(argv)
    with SlowRegistry(args.upstream, args.mode, rate=args.rate) as proxy:
        print(f"PORT {proxy.port}", flush=True)
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

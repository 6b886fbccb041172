"""Pull an image with a real deadline, cancellation, progress and sentences for every failure."""

from __future__ import annotations

import contextlib
import math
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import docker
import docker.errors

from app import threadguard as guard
from app.engine.errors import EngineError, ErrorKind, engine_error, registry_of
from app.engine.progress import LayerProgress as LayerProgress  # re-exported
from app.engine.progress import PullProgress as PullProgress  # re-exported
from app.engine.ssh import SshSocket

PULL_KINDS = frozenset({ErrorKind.AUTH, ErrorKind.NOT_FOUND, ErrorKind.UNREACHABLE,
                        ErrorKind.DEADLINE, ErrorKind.CANCELLED, ErrorKind.ENGINE})

# The socket read timeout outlives the deadline a little: the deadline is enforced by closing
# the socket, the read timeout only bounds the reader thread if that close ever misses.
_READ_TIMEOUT_MARGIN_S = 5.0
# How often the waiting thread looks at the cancel event (threading.Event cannot be waited
# on together with a queue).
_POLL_S = 0.1
# How long an aborted pull waits for its reader thread to notice the closed socket.
_JOIN_S = 1.0

# Layer statuses after which the layer's download is complete.
_DOWNLOADED = ("Verifying Checksum", "Download complete", "Extracting", "Pull complete")


class PullError(EngineError):
    """A pull failed; ``kind`` is one of :data:`PULL_KINDS`, ``sentence`` is for a person."""


MakeApi = Callable[[float | None], docker.APIClient]


def split_reference(reference: str) -> tuple[str, str]:
    """``(repository, tag_or_digest)`` as the engine's pull wants them: ``name:tag`` ->
    ``(name, tag)``, ``name@sha256:...`` (a tag before the digest is ignored, as the engine
    does) -> ``(name, "sha256:...")``, ``name`` -> ``(name, "latest")``."""
    if "@" in reference:
        name, digest = reference.split("@", 1)
        return _drop_tag(name), digest
    last = reference.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = reference.rsplit(":", 1)
        return name, tag
    return reference, "latest"


def _drop_tag(name: str) -> str:
    last = name.rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[0] if ":" in last else name


def image_present(api: docker.APIClient, reference: str) -> bool:
    """Whether the engine has exactly this image (see :func:`present_in`)."""
    guard.check()
    return present_in(api.images(all=False), reference)


def present_in(images: Iterable[Mapping[str, Any]], reference: str) -> bool:
    """Whether an image listing holds exactly this image: ``name:tag`` (``:latest`` when there
    is no tag) in some image's RepoTags, or ``name@sha256:...`` in some image's RepoDigests. No
    name normalisation (Kura's rule): ``docker.io/library/busybox:1`` is not ``busybox:1``."""
    if "@" in reference:
        name, digest = reference.split("@", 1)
        wanted, field = f"{_drop_tag(name)}@{digest}", "RepoDigests"
    else:
        repository, tag = split_reference(reference)
        wanted, field = f"{repository}:{tag}", "RepoTags"
    return any(wanted in (image.get(field) or ()) for image in images)


class _Progress:
    """Per-layer state, folded from the stream's items."""

    def __init__(self, reference: str) -> None:
        self.reference = reference
        self.layers: dict[str, LayerProgress] = {}
        self.sizes: dict[str, int] = {}
        self.downloaded: dict[str, int] = {}
        self.changed = False
        # The engine retries a layer whose download broke off ("Retrying in N seconds"); the
        # stream never says why, but it is the only sign of it before the engine gives up.
        self.retries: dict[str, int] = {}

    def feed(self, item: dict[str, Any]) -> None:
        layer_id = item.get("id")
        status = str(item.get("status") or "")
        if not isinstance(layer_id, str) or not status or status.startswith("Pulling from"):
            return  # "Pulling from x" carries the tag as its id; Digest:/Status: have none
        old_status = self.layers[layer_id].status if layer_id in self.layers else ""
        if status.startswith("Retrying") and not old_status.startswith("Retrying"):
            self.retries[layer_id] = self.retries.get(layer_id, 0) + 1
        detail = item.get("progressDetail") or {}
        current = _int(detail.get("current"))
        total = _int(detail.get("total"))
        if total > 0:
            self.sizes[layer_id] = max(self.sizes.get(layer_id, 0), total)
        size = self.sizes.get(layer_id, 0)
        if status == "Downloading":
            self.downloaded[layer_id] = current
        elif status in _DOWNLOADED:
            self.downloaded[layer_id] = size
        if status in ("Downloading", "Extracting") and total > 0:
            shown_current, shown_total = current, total
        elif status in ("Download complete", "Verifying Checksum", "Pull complete"):
            shown_current, shown_total = size, size
        else:  # Pulling fs layer, Waiting, Already exists, Retrying in N seconds...
            old = self.layers.get(layer_id)
            shown_current, shown_total = (old.current, old.total) if old else (0, size)
        self.layers[layer_id] = LayerProgress(layer_id, status, shown_current, shown_total)
        self.changed = True

    def broke_off(self, registry: str) -> str | None:
        """Why a pull that ran out of time did, when downloads broke off and were retried."""
        if not self.retries:
            return None
        layer, count = max(self.retries.items(), key=lambda kv: kv[1])
        times = "once" if count == 1 else f"{count} times"
        waiting = self.layers[layer].status.startswith("Retrying") if layer in self.layers \
            else False
        now = ", and the engine was waiting to try again" if waiting else ""
        return (f"the download of layer {layer} from registry {registry} broke off {times}"
                f"{now}; check the network between the engine's host and the registry, and "
                "the registry")

    def snapshot(self) -> PullProgress:
        sized = [lid for lid in self.layers if self.sizes.get(lid, 0) > 0]
        total = sum(self.sizes[lid] for lid in sized)
        current = sum(min(self.downloaded.get(lid, 0), self.sizes[lid]) for lid in sized)
        self.changed = False
        return PullProgress(self.reference, tuple(self.layers.values()), current, total)


def _int(value: object) -> int:
    return value if isinstance(value, int) and value > 0 else 0


class _Reader:
    """The thread that talks to the engine: everything that can block happens here, so the
    calling thread stays free to notice the deadline or a cancel and close the socket."""

    def __init__(
        self,
        make_api: MakeApi,
        read_timeout: float | None,
        repository: str,
        tag: str,
        credentials: dict[str, str] | None,
    ) -> None:
        self.items: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._make_api = make_api
        self._read_timeout = read_timeout
        self._repository = repository
        self._tag = tag
        self._credentials = credentials
        self._lock = threading.Lock()
        self._stopped = False
        self._api: Any = None
        self.engine: str | None = None  # the engine's address, once the client exists
        self._connections: list[Any] = []
        self._thread = threading.Thread(target=self._run, name="moorings-pull", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            api = self._make_api(self._read_timeout)
            with self._lock:
                self._api = api
                self.engine = _engine_url(api)
                stopped = self._stopped
            if stopped:  # stop() may have come and gone while the client was being built
                api.close()
                return
            self._patch_timeout(api)
            _track_connections(api, self._connections, self._lock)
            with self._lock:
                if self._stopped:
                    return
            # The pull's own request checks again (see _patch_timeout), closing the race.
            stream = api.pull(
                self._repository,
                tag=self._tag,
                stream=True,
                decode=True,
                auth_config=self._credentials,
            )
            for item in stream:
                self.items.put(("item", item))
                if self.stopped():
                    return
            self.items.put(("done", None))
        except BaseException as e:  # noqa: BLE001 - handed to the waiting thread, which raises
            self.items.put(("error", e))

    def _patch_timeout(self, api: Any) -> None:
        # docker-py sends /images/create with timeout=None (no read timeout at all). This
        # client is ours alone, so give its requests the read timeout back; and send nothing
        # once stopped.
        original = api.request
        read_timeout = self._read_timeout

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if self.stopped():
                raise _Stopped
            if kwargs.get("timeout") is None and read_timeout is not None:
                kwargs["timeout"] = read_timeout
            return original(method, url, *args, **kwargs)

        api.request = request

    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Make the reader give up: shut its sockets down (a blocked read returns at once),
        wait a little for it, close the client. Safe to call more than once."""
        with self._lock:
            self._stopped = True
            api = self._api
        deadline = time.monotonic() + _JOIN_S
        while self._thread.is_alive() and time.monotonic() < deadline:
            with self._lock:
                connections = list(self._connections)
            for conn in connections:
                _shutdown(getattr(conn, "sock", None))
            self._thread.join(_POLL_S)
        if api is None:
            with self._lock:
                api = self._api
        if api is not None:
            with contextlib.suppress(Exception):
                api.close()

    def close(self) -> None:
        """After a normal end: the reader is done, close its client."""
        self._thread.join(_JOIN_S)
        self.stop()


def _engine_url(api: Any) -> str | None:
    """The engine's address as a person typed it (``unix:///...``, ``tcp://...``, ``ssh://``)."""
    given = getattr(api, "engine_url", None)  # hosts.py's clients know it
    if isinstance(given, str) and given:
        return given
    base = str(getattr(api, "base_url", "") or "")
    if base.startswith("http+docker://"):
        for adapter in api.adapters.values():
            path = getattr(adapter, "socket_path", None)
            if isinstance(path, str) and path:
                return f"unix://{path}"
        return None
    for scheme in ("http://", "https://"):
        if base.startswith(scheme):
            return "tcp://" + base[len(scheme):]
    return base or None


class _Stopped(Exception):
    """The pull was stopped before a request could be sent."""


def _track_connections(api: Any, sink: list[Any], lock: threading.Lock) -> None:
    """Append every connection the client takes from its pools to ``sink``, so that another
    thread can shut its socket down while a request on it is blocked.

    An in-flight connection is referenced nowhere public: docker-py's unix-socket adapter even
    keeps one pool per URL, so the pull always gets a brand-new connection. Hence these
    wrappers, on this client only (pull_image's own): the adapters' pool getters (requests'
    API) and each pool's ``_get_conn`` (urllib3's, unchanged since urllib3 1.x).
    """

    def instrument(pool: Any) -> Any:
        if pool is None or getattr(pool, "_moorings_tracked", False):
            return pool
        original_get = pool._get_conn

        def get_conn(*args: Any, **kwargs: Any) -> Any:
            conn = original_get(*args, **kwargs)
            with lock:
                sink.append(conn)
            return conn

        pool._get_conn = get_conn
        pool._moorings_tracked = True
        return pool

    for adapter in {id(a): a for a in api.adapters.values()}.values():
        for name in ("get_connection_with_tls_context", "get_connection"):
            original = getattr(adapter, name, None)
            if original is None:
                continue

            def getter(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                return instrument(_original(*args, **kwargs))

            setattr(adapter, name, getter)


def _shutdown(sock: Any) -> None:
    # shutdown(), unlike close(), wakes a thread blocked in recv() on the same socket. The
    # plain socket method also works under TLS, without touching the SSL object another
    # thread is using. Over ssh, the ssh child goes too (its remote end may never close).
    if isinstance(sock, SshSocket):
        sock.abort()
    elif isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def pull_image(
    make_api: MakeApi,
    reference: str,
    credentials: dict[str, str] | None,
    *,
    timeout_s: float,
    on_progress: Callable[[PullProgress], None] | None = None,
    cancel: threading.Event | None = None,
    progress_interval_s: float = 0.25,
    stall_timeout_s: float | None = None,
) -> None:
    """Pull ``reference`` (``name:tag``, ``name`` for ``:latest``, or ``name@sha256:...``).

    ``make_api(read_timeout)`` must return a NEW low-level client (it is closed at the end,
    and its socket is shut down on a deadline or cancel). ``credentials`` is docker-py's
    ``auth_config`` (username, password, optional serveraddress), or None.

    ``timeout_s`` bounds the whole attempt (math.inf: no bound): when it passes, or ``cancel``
    is set, the pull stops within about a second, whatever the registry does, and PullError
    kind "deadline" or "cancelled" is raised. With ``stall_timeout_s``, a pull that gets no
    progress item for that long fails with kind "deadline" too. Other failures raise
    PullError with kind "auth", "not-found", "unreachable" or "engine".

    ``on_progress`` is called on the calling thread only, at most once per
    ``progress_interval_s`` while items arrive, and once more when the pull succeeded. If
    it raises, the pull is stopped and the exception propagates.
    """
    guard.check()
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be positive, not {timeout_s}")
    repository, tag = split_reference(reference)
    registry = registry_of(reference)
    action = f"pulling {reference}"
    password = (credentials or {}).get("password") or ""

    def failure(kind: str, sentence: str) -> PullError:
        if password and len(password) >= 3:
            sentence = sentence.replace(password, "***")  # never shown, whatever happens
        return PullError(sentence, kind)

    def from_exception(exc: BaseException) -> PullError:
        err = engine_error(
            exc, action=action, registry=registry, reference=reference, engine=reader.engine
        )
        kind = err.kind if err.kind in PULL_KINDS else (
            ErrorKind.UNREACHABLE if err.kind == ErrorKind.TLS else ErrorKind.ENGINE)
        return failure(kind, err.sentence)

    started = time.monotonic()
    deadline = started + timeout_s
    read_timeout = None if math.isinf(timeout_s) else timeout_s + _READ_TIMEOUT_MARGIN_S
    progress = _Progress(reference)
    reader = _Reader(make_api, read_timeout, repository, tag, credentials)
    last_item = started
    last_emit = -math.inf
    succeeded = False
    reader.start()
    try:
        while True:
            now = time.monotonic()
            if cancel is not None and cancel.is_set():
                raise failure(ErrorKind.CANCELLED, f"{action} was cancelled")
            if now >= deadline:
                broke = progress.broke_off(registry)
                if broke is not None:
                    raise failure(ErrorKind.UNREACHABLE, f"{action} did not finish within the "
                                  f"{timeout_s:g} s Image Download Timeout: {broke}")
                raise failure(
                    ErrorKind.DEADLINE,
                    f"{action} took longer than the {timeout_s:g} s Image Download Timeout; "
                    f"registry {registry} may be slow or not answering: raise the timeout or "
                    "check the registry",
                )
            if stall_timeout_s is not None and now - last_item >= stall_timeout_s:
                raise failure(
                    ErrorKind.DEADLINE,
                    f"{action} made no progress for {stall_timeout_s:g} s; registry "
                    f"{registry} may not be answering: check the registry and the network",
                )
            due = now - last_emit >= progress_interval_s
            if on_progress is not None and progress.changed and due:
                last_emit = now
                on_progress(progress.snapshot())
                continue  # the callback took time: look at the clock again
            wait = min(_POLL_S, deadline - now)
            if stall_timeout_s is not None:
                wait = min(wait, last_item + stall_timeout_s - now)
            if on_progress is not None and progress.changed:
                wait = min(wait, last_emit + progress_interval_s - now)
            try:
                what, payload = reader.items.get(timeout=max(wait, 0.001))
            except queue.Empty:
                continue
            if what == "done":
                break
            if what == "error":
                raise from_exception(payload)
            last_item = time.monotonic()
            if isinstance(payload, dict):
                message = _stream_error(payload)
                if message is not None:
                    raise from_exception(docker.errors.APIError(message, explanation=message))
                progress.feed(payload)
        succeeded = True
    finally:
        if succeeded:
            reader.close()
        else:
            reader.stop()
    if on_progress is not None:
        on_progress(progress.snapshot())


def _stream_error(item: dict[str, Any]) -> str | None:
    """The message of a stream item that reports an error, else None."""
    detail = item.get("errorDetail")
    if isinstance(detail, dict) and detail.get("message"):
        return str(detail["message"])
    if item.get("error"):
        return str(item["error"])
    return None

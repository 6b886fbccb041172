"""Kura's request dispatch: a request on ``<prefix>/<account>/<client-id>/<app>/<METHOD>/...``
carrying the STRING metrics ``request.id`` and ``requester.client.id`` is handled on a worker
(never the network thread) and answered on ``.../<requester>/<app>/REPLY/<request.id>`` with
``response.code`` (INT32: 200, 400, 404, 500) and, for errors, ``response.exception.message``.

A request without both ids is dropped without a reply, as in Kura; so is a request to an
application this gateway does not serve.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from app.remote.payload import MetricValue, Payload, decode, encode, now_ms
from app.remote.topics import METHODS, Identity, parse_request

log = logging.getLogger(__name__)

WORKERS = 4  # Kura runs two; a start or stop may wait on the engine for seconds
REQUEST_ID = "request.id"
REQUESTER = "requester.client.id"
RESPONSE_CODE = "response.code"
RESPONSE_MESSAGE = "response.exception.message"

OK, BAD_REQUEST, NOT_FOUND, ERROR = 200, 400, 404, 500


@dataclass(frozen=True)
class Request:
    app: str
    method: str
    resources: tuple[str, ...]
    metrics: Mapping[str, MetricValue]
    body: bytes
    request_id: str
    requester: str


@dataclass
class Response:
    code: int = OK
    body: bytes = b""
    metrics: dict[str, MetricValue] = field(default_factory=dict)
    message: str | None = None


class RequestError(Exception):
    """A request that cannot be served: ``code`` (400, 404, 500) and a sentence."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def bad_request(message: str) -> RequestError:
    return RequestError(BAD_REQUEST, message)


def not_found(message: str) -> RequestError:
    return RequestError(NOT_FOUND, message)


class App(Protocol):
    """One application (Kura's RequestHandler): its id, and the answer to a request."""

    @property
    def app_id(self) -> str: ...

    def handle(self, request: Request) -> Response: ...


Publish = Callable[[str, bytes, int], bool]


class Dispatcher:
    """Routes requests to the registered applications and publishes their replies."""

    def __init__(self, publish: Publish, identity: Callable[[], Identity | None],
                 gzip_ok: Callable[[], bool], *, workers: int = WORKERS,
                 on_apps_changed: Callable[[], None] | None = None) -> None:
        self._publish = publish
        self._identity = identity
        self._gzip_ok = gzip_ok
        self._apps: dict[str, App] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers,
                                        thread_name_prefix="moorings-remote")
        self.on_apps_changed = on_apps_changed

    def register(self, app: App) -> None:
        with self._lock:
            self._apps[app.app_id] = app
        if self.on_apps_changed is not None:
            self.on_apps_changed()

    def unregister(self, app_id: str) -> None:
        with self._lock:
            gone = self._apps.pop(app_id, None)
        if gone is not None and self.on_apps_changed is not None:
            self.on_apps_changed()

    def app_ids(self) -> list[str]:
        with self._lock:
            return list(self._apps)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- the network thread: look, and queue ---------------------------------------------------
    def on_message(self, topic: str, data: bytes) -> None:
        identity = self._identity()
        if identity is None:
            return
        parsed = parse_request(topic, identity)
        if parsed is None:
            return
        with self._lock:
            app = self._apps.get(parsed.app)
        if app is None:
            log.debug("cloud: no application %s here; request on %s dropped", parsed.app, topic)
            return
        with contextlib.suppress(RuntimeError):  # shutting down
            self._pool.submit(self._serve, app, identity, parsed.method, parsed.resources, data)

    # -- a worker -----------------------------------------------------------------------------
    def _serve(self, app: App, identity: Identity, method: str, resources: tuple[str, ...],
               data: bytes) -> None:
        payload = decode(data)
        request_id = payload.text_metric(REQUEST_ID)
        requester = payload.text_metric(REQUESTER)
        if not request_id or not requester or "/" in requester or "/" in request_id \
                or any(c in requester + request_id for c in "+#"):
            log.info("cloud: a %s request to %s without string request.id and "
                     "requester.client.id was dropped (no reply can be addressed)", method,
                     app.app_id)
            return
        request = Request(app.app_id, method, resources, payload.metrics, payload.body,
                          request_id, requester)
        try:
            if method not in METHODS:
                raise bad_request(f"{method} is not a method; expected one of "
                                  f"{', '.join(sorted(METHODS))}")
            response = app.handle(request)
        except RequestError as exc:
            response = Response(exc.code, message=exc.message)
        except Exception as exc:
            log.exception("cloud: %s %s/%s failed", method, app.app_id, "/".join(resources))
            response = Response(ERROR, message=f"the request failed inside Moorings "
                                f"({type(exc).__name__}); see the gateway's log")
        self.reply(identity, request, response)

    def reply(self, identity: Identity, request: Request, response: Response) -> None:
        metrics: dict[str, MetricValue] = {RESPONSE_CODE: int(response.code)}
        if response.message is not None:
            metrics[RESPONSE_MESSAGE] = response.message
        metrics.update(response.metrics)
        data = encode(Payload(metrics, response.body, now_ms()), gzip_ok=self._gzip_ok())
        topic = identity.reply(request.requester, request.app, request.request_id)
        if not self._publish(topic, data, 0):
            log.info("cloud: the reply to %s %s/%s was lost: not connected", request.method,
                     request.app, "/".join(request.resources))

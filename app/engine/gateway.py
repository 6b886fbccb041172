"""The one way to an engine's containers and images: typed verbs that every caller uses (the
orchestrator, the inventory, the plugin API), each failing with the engine's sentence.

An :class:`Engine` wraps one SDK client; a client is confined to the thread that uses it (the
SDK does not say it is thread-safe), so each thread that talks to the engine opens its own.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import docker
import docker.errors

from app import threadguard as guard
from app.engine.errors import EngineError, ErrorKind, engine_error
from app.engine.hosts import EngineTarget
from app.engine.progress import PullProgress
from app.engine.pull import image_present, pull_image
from app.engine.spec import ContainerSpec, create_container
from app.engine.watcher import EventCallback, EventWatcher, LostCallback

T = TypeVar("T")

STOP_TIMEOUT_S = 10

# A full or abbreviated image id, as a person may type it.
HEX_ID = re.compile(r"(sha256:)?[0-9a-f]{12,64}")

Document = dict[str, Any]
"""One of the engine's JSON documents (a listing item, an inspect result), as it sent it."""


def _explanation(exc: BaseException) -> str:
    if isinstance(exc, docker.errors.APIError):
        return str(exc.explanation or "")
    return str(exc)


class Engine:
    """A connection to one engine with the verbs Moorings uses.

    Every verb raises :class:`EngineError` with a sentence for a person; its ``kind`` tells a
    refused request (``not-found``, ``conflict``...) from an engine that is gone
    (``unreachable``, see :func:`app.engine.errors.is_unreachable`).
    """

    def __init__(self, api: docker.APIClient, target: EngineTarget) -> None:
        self._api = api
        self._target = target
        self.url = target.url

    @classmethod
    def open(cls, target: EngineTarget, *, timeout: float | None = 60.0) -> Engine:
        """A new connection (this talks to the engine: it negotiates the API version)."""
        try:
            return cls(target.api_client(timeout=timeout), target)
        except EngineError:
            raise
        except Exception as exc:
            raise engine_error(exc, action=f"connecting to the engine at {target.url}",
                               engine=target.url) from exc

    @property
    def api_version(self) -> str:
        return str(getattr(self._api, "api_version", ""))

    @property
    def sdk(self) -> docker.APIClient:
        """The SDK client, for the other modules of app/engine (streams, pulls) only."""
        return self._api

    def close(self) -> None:
        # A client that fails to close is dropped anyway.
        with contextlib.suppress(Exception):
            self._api.close()

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        guard.check()
        try:
            return fn()
        except EngineError:
            raise
        except Exception as exc:
            raise engine_error(exc, action=action, engine=self.url) from exc

    def ping(self) -> None:
        self._call(f"reaching the engine at {self.url}", self._api.ping)

    def info(self) -> Document:
        """The engine's settings (``docker info``): its insecure registries, say."""
        info: Document = self._call(f"reading the settings of the engine at {self.url}",
                                    self._api.info)
        return info

    # -- containers ----------------------------------------------------------------------
    def containers(self, name: str | None = None,
                   ids: list[str] | None = None) -> list[Document]:
        """Every container (running or not), or only the one called ``name``, or those of
        ``ids``; the cheap listing (no inspect per container)."""
        filters: dict[str, Any] | None = None
        if name:
            filters = {"name": f"^/{name}$"}
        elif ids is not None:
            filters = {"id": ids}
        rows: list[Document] = self._call(
            "listing containers", lambda: self._api.containers(all=True, filters=filters))
        return rows

    def inspect(self, cid: str) -> Document:
        info: Document = self._call(f"inspecting {cid[:12]}",
                                    lambda: self._api.inspect_container(cid))
        return info

    def create(self, spec: ContainerSpec, store_id: str, *,
               labels: Mapping[str, str] | None = None) -> str:
        """Create (not start) the container of ``spec``; return its id."""
        return self._call(f"creating the container {spec.name}",
                          lambda: create_container(self._api, spec, store_id, labels=labels))

    def start(self, cid: str, name: str | None = None) -> None:
        """Start ``cid``; a paused container is unpaused (the engine refuses to start one)."""
        action = f"starting the container {name or cid[:12]}"

        def start() -> None:
            try:
                self._api.start(cid)
            except docker.errors.APIError as exc:
                if "paused" not in _explanation(exc).lower():
                    raise
                self._api.unpause(cid)
        self._call(action, start)

    def stop(self, cid: str, timeout: int = STOP_TIMEOUT_S, name: str | None = None) -> None:
        """Ask the process to end (SIGTERM), and kill it after ``timeout`` seconds."""
        self._call(f"stopping the container {name or cid[:12]}",
                   lambda: self._api.stop(cid, timeout=timeout))

    def restart(self, cid: str, timeout: int = STOP_TIMEOUT_S, name: str | None = None) -> None:
        self._call(f"restarting the container {name or cid[:12]}",
                   lambda: self._api.restart(cid, timeout=timeout))

    def remove(self, cid: str, timeout: int = STOP_TIMEOUT_S, name: str | None = None) -> None:
        """Stop gracefully (``timeout`` seconds, unpausing a paused one first), then remove.

        A container that is already gone, or being removed by someone else right now, counts
        as removed: that is the outcome asked for.
        """
        def remove() -> None:
            try:
                state = (self._api.inspect_container(cid).get("State") or {})
            except docker.errors.NotFound:
                return
            try:
                if state.get("Paused"):
                    self._api.unpause(cid)
                if state.get("Running") or state.get("Restarting"):
                    self._api.stop(cid, timeout=timeout)
                self._api.remove_container(cid, force=True)
            except docker.errors.NotFound:
                return
            except docker.errors.APIError as exc:
                if "already in progress" not in _explanation(exc):
                    raise
        self._call(f"removing the container {name or cid[:12]}", remove)

    # -- streams (each on a client of its own, made here) ---------------------------------
    def watch(self, on_event: EventCallback, on_lost: LostCallback,
              since: float | None) -> EventWatcher:
        """The engine's container events, read on a thread of their own (not started)."""
        return EventWatcher(self._target, on_event, on_lost, since)

    def pull(self, reference: str, credentials: dict[str, str] | None, *, timeout_s: float,
             on_progress: Callable[[PullProgress], None] | None = None,
             cancel: threading.Event | None = None) -> None:
        """Pull ``reference`` with a real deadline (see :func:`app.engine.pull.pull_image`);
        fails with PullError."""
        pull_image(self._target.api_client, reference, credentials, timeout_s=timeout_s,
                   on_progress=on_progress, cancel=cancel)

    # -- images --------------------------------------------------------------------------
    def images(self) -> list[Document]:
        rows: list[Document] = self._call("listing images", self._api.images)
        return rows

    def inspect_image(self, ref: str) -> Document:
        info: Document = self._call(f"inspecting the image {ref}",
                                    lambda: self._api.inspect_image(ref))
        return info

    def image_present(self, reference: str) -> bool:
        """Whether the engine has exactly ``reference`` (Kura's name:tag rule)."""
        return self._call(f"looking for the image {reference}",
                          lambda: image_present(self._api, reference))

    def remove_image(self, ref: str) -> None:
        """Remove an image (or only one of its tags); refused, naming them, while containers
        use the image it would delete."""
        try:
            info = self._api.inspect_image(ref)
        except docker.errors.NotFound as exc:
            raise EngineError(f"there is no image {ref} on this host", ErrorKind.NOT_FOUND) from exc
        except Exception as exc:
            raise engine_error(exc, action=f"finding the image {ref}", engine=self.url) from exc
        image_id = str(info.get("Id") or "")
        tags = [t for t in info.get("RepoTags") or [] if t != "<none>:<none>"]
        by_tag = "@" not in ref and not HEX_ID.fullmatch(ref)
        # Removing one of several tags only untags: the image (and its containers) stay.
        if not by_tag or len(tags) <= 1:
            users = sorted(container_name(c.get("Names"), str(c.get("Id", "")))
                           for c in self.containers() if c.get("ImageID") == image_id)
            if users:
                which = (f"the container {users[0]}" if len(users) == 1
                         else "the containers " + ", ".join(users))
                them = "it" if len(users) == 1 else "them"
                raise EngineError(f"the image {ref} is used by {which}; remove {them} first",
                                  ErrorKind.CONFLICT)
        try:
            self._api.remove_image(ref)
        except Exception as exc:
            raise engine_error(exc, action=f"removing the image {ref}",
                               reference=ref if by_tag else None, engine=self.url) from exc


def container_name(names: object, fallback: str) -> str:
    """The container's own name from a listing's Names (links add "other/name" entries)."""
    listed = [str(n).lstrip("/") for n in names or []] if isinstance(names, list) else []
    for name in listed:
        if "/" not in name:
            return name
    return listed[0] if listed else fallback[:12]


def gone(error: BaseException) -> bool:
    """Whether ``error`` says the container or image is not there (any more)."""
    return isinstance(error, EngineError) and error.kind == ErrorKind.NOT_FOUND


EngineFactory = Callable[[EngineTarget], Engine]
"""Opens an Engine for a target (injectable: the fake-engine tests pass a fake)."""


def open_engine(target: EngineTarget) -> Engine:
    return Engine.open(target, timeout=60.0)

"""Kura's INVENTORY-V1 application, byte-compatible (kura-behaviour.md §6.2): the containers and
images of the engine in Kura's JSON shapes, and a person's start and stop.

Every engine call goes through the orchestrator's engine (``call_engine``: the gateway); a start
or stop of an instance's container is the orchestrator's person request, kept across restarts
as from the window. Kura's quirks are kept: ``version`` is required in an EXEC body, a container
or image that is not there is 400 (not 404), and a container's JSON has exactly four keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from app.engine.errors import EngineError
from app.engine.gateway import Engine
from app.engine.labels import instance_of
from app.inventory.feed import Inventory
from app.inventory.rows import split_image
from app.orchestrator.service import Orchestrator
from app.remote.dispatch import ERROR, Request, RequestError, Response, bad_request, not_found

APP_ID = "INVENTORY-V1"
T = TypeVar("T")
# A person's start or stop is answered once done, or after this long (Kapua waits 30 s): it
# goes on by itself, and the state follows in the listing (and MOORINGS-V1's notifications).
WAIT_S = 25.0
ENGINE_WAIT_S = 60.0

# Kura's JSON state of a container (kura-behaviour.md §3.10: lossy, as Kura's own).
_STATES = {"running": "active", "paused": "uninstalled", "exited": "uninstalled",
           "dead": "uninstalled"}


def kura_state(engine_state: str) -> str:
    return _STATES.get(engine_state, "unknown")


def dumps(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def container_name(row: dict[str, Any]) -> str:
    return str((row.get("Names") or ["/"])[0]).lstrip("/")


def container_version(row: dict[str, Any]) -> str:
    image, tag = split_image(str(row.get("Image", "")))
    return f"{image}:{tag}" if tag else image


class InventoryV1:
    """``feed``, the live inventory (kept current by the engine's events), answers the listing
    of containers while it is live: a console's poll then costs no engine call."""

    app_id = APP_ID

    def __init__(self, orchestrator: Orchestrator, feed: Inventory | None = None) -> None:
        self._orch = orchestrator
        self._feed = feed

    # -- the engine ------------------------------------------------------------------------
    def _engine(self, fn: Callable[[Engine], T], label: str) -> T:
        try:
            return self._orch.call_engine(fn, label).result(ENGINE_WAIT_S)
        except EngineError as exc:
            raise RequestError(ERROR, exc.sentence) from exc
        except FutureTimeout:
            raise RequestError(ERROR, f"{label} took more than {ENGINE_WAIT_S:.0f} s") from None

    def containers(self) -> list[dict[str, str]]:
        feed = self._feed
        if feed is not None and feed.state().state == "live":
            return [{"name": r.name, "version": f"{r.image}:{r.tag}" if r.tag else r.image,
                     "type": "DOCKER", "state": kura_state(r.state)} for r in feed.rows()]
        rows = self._engine(lambda e: e.containers(), "listing containers")
        return [{"name": container_name(r), "version": container_version(r), "type": "DOCKER",
                 "state": kura_state(str(r.get("State", "")))} for r in rows]

    def images(self) -> list[dict[str, str]]:
        out = []
        for img in self._engine(lambda e: e.images(), "listing images"):
            for ref in img.get("RepoTags") or []:
                name, tag = split_image(str(ref))
                out.append({"name": name, "version": tag, "type": "CONTAINER_IMAGE"})
        return out

    # -- requests ----------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        res = request.resources
        if request.method == "GET":
            return self._get(res)
        if request.method == "EXEC":
            if res == ("containers", "_start"):
                return self._start_stop(request, start=True)
            if res == ("containers", "_stop"):
                return self._start_stop(request, start=False)
            if res == ("images", "_delete"):
                return self._delete_image(request)
            raise not_found(f"there is no EXEC resource {'/'.join(res)}; expected "
                            "containers/_start, containers/_stop or images/_delete")
        if request.method == "DEL":
            raise not_found("INVENTORY-V1 has no DEL resources")
        raise RequestError(ERROR, f"{request.method} is not supported by INVENTORY-V1")

    def _get(self, res: tuple[str, ...]) -> Response:
        if res == ("containers",):
            return Response(body=dumps({"containers": self.containers()}))
        if res == ("images",):
            return Response(body=dumps({"images": self.images()}))
        if res == ("inventory",):
            entries = [{k: c[k] for k in ("name", "version", "type")} for c in self.containers()]
            entries += self.images()
            entries.sort(key=lambda e: e["name"])
            return Response(body=dumps({"inventory": entries}))
        # A gateway has no OSGi bundles or packages of Kura's: empty lists, so a console's
        # Inventory tab shows the containers and nothing else.
        empty = {"bundles": "bundles", "deploymentPackages": "deploymentPackages",
                 "systemPackages": "systemPackages"}
        if len(res) == 1 and res[0] in empty:
            return Response(body=dumps({empty[res[0]]: []}))
        raise not_found(f"there is no GET resource {'/'.join(res) or '(none)'}; expected "
                        "inventory, containers or images")

    def _name_version(self, request: Request) -> tuple[str, str]:
        if not request.body:
            raise bad_request("the request has no body; expected JSON with name and version")
        try:
            doc = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise bad_request("the body is not JSON; expected {\"name\": ..., "
                              "\"version\": ...}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("name"), str) or \
                not isinstance(doc.get("version"), str):
            # As Kura's unmarshaller: both are required, whatever its documentation says.
            raise bad_request("the body must hold name and version as text, such as "
                              "{\"name\": \"web\", \"version\": \"nginx:latest\"}")
        return doc["name"], doc["version"]

    def _start_stop(self, request: Request, *, start: bool) -> Response:
        name, _version = self._name_version(request)  # Kura matches by name only
        store = self._orch.store_id
        rows = self._engine(lambda e: e.containers(name=name), f"looking up {name}")
        instance = next((instance_of(r.get("Labels") or {}, store) for r in rows), None)
        if instance is None and self._orch.repository.has_instance(name):
            instance = name
        if instance is not None:
            # A person's start or stop, as from the window: a stop is kept across restarts.
            future = self._orch.start_container(instance) if start \
                else self._orch.stop_container(instance)
            self._wait(future, f"{'starting' if start else 'stopping'} {instance}")
            return Response()
        if not rows:
            raise bad_request(f"there is no container named {name}")
        cid = str(rows[0]["Id"])
        verb = "starting" if start else "stopping"
        self._engine(lambda e: e.start(cid, name) if start else e.stop(cid, name=name),
                     f"{verb} the container {name}")
        return Response()

    def _wait(self, future: Future[Any], label: str) -> None:
        try:
            future.result(WAIT_S)
        except FutureTimeout:
            return  # under way; the state tells how it ends
        except EngineError as exc:
            raise RequestError(ERROR, exc.sentence) from exc
        except Exception as exc:
            raise RequestError(ERROR, f"{label} failed: {exc}") from exc

    def _delete_image(self, request: Request) -> Response:
        name, version = self._name_version(request)
        wanted = f"{name}:{version}"

        def find(engine: Engine) -> str | None:
            # Kura matches only each image's first tag, so another tag of an image cannot be
            # deleted there; here any tag is found, and only that tag goes.
            for img in engine.images():
                if wanted in (img.get("RepoTags") or []):
                    return wanted
            return None
        ref = self._engine(find, f"looking up the image {wanted}")
        if ref is None:
            raise bad_request(f"there is no image {wanted}")
        self._engine(lambda e: e.remove_image(ref), f"removing the image {wanted}")
        return Response()

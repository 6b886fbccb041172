"""Rows of the live inventory: containers and images as a person reads them, from the engine."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.engine.gateway import HEX_ID, container_name
from app.engine.labels import instance_of, is_managed

NONE = "<none>"

# The engine's own states (docker ps's State column).
STATES = frozenset({"created", "running", "paused", "restarting", "exited", "dead", "removing"})


@dataclass(frozen=True)
class PortInfo:
    container_port: int
    protocol: str
    host_ip: str | None
    host_port: int | None

    def label(self) -> str:
        """``127.0.0.1:8080->80/tcp``, or ``80/tcp`` when the port is not published."""
        inner = f"{self.container_port}/{self.protocol}"
        if self.host_port is None:
            return inner
        ip = self.host_ip or ""
        host = f"[{ip}]" if ":" in ip else ip
        return f"{host}:{self.host_port}->{inner}" if host else f"{self.host_port}->{inner}"


@dataclass(frozen=True)
class ContainerRow:
    id: str
    name: str
    image: str
    tag: str
    state: str
    exit_code: int | None
    health: str | None
    ports: tuple[PortInfo, ...]
    created: float
    started: float | None
    instance: str | None
    managed: bool
    status_text: str
    # Why allowlist enforcement stopped it (empty: it did not).
    blocked: str = ""

    def state_label(self) -> str:
        """The state in a few words: ``running (healthy)``, ``exited (code 137)``..."""
        if self.state == "running" and self.health:
            shown = "health: starting" if self.health == "starting" else self.health
            return f"running ({shown})"
        if self.state in ("exited", "dead") and self.exit_code is not None:
            return f"{self.state} (code {self.exit_code})"
        return self.state or "unknown"

    @property
    def short_id(self) -> str:
        return self.id[:12]


@dataclass(frozen=True)
class ImageRow:
    id: str
    repository: str
    tag: str
    size: int
    created: float
    used_by: tuple[str, ...]

    @property
    def ref(self) -> str:
        """What to pass to ``remove_image`` for this row: ``repo:tag``, or the id if untagged
        (removing a tag of an image with several tags only removes that tag, as docker rmi)."""
        if self.repository != NONE and self.tag:
            return f"{self.repository}:{self.tag}"
        return self.id


# ---------------------------------------------------------------- image references

# A bare image id (what a listing shows when the tag the container was made from is gone).


def split_image(reference: str) -> tuple[str, str]:
    """Split an image reference into (repository, tag) the way the engine reads it.

    The tag is after the last ``:`` of the last path component, so the port in
    ``host:5000/repo:1`` stays in the repository (Kura split at the first ``:``). A bare
    image id shows as ``("<none>", "")``; a digest reference keeps its repository with an
    empty tag (a digest is not a tag).
    """
    ref = reference.strip()
    if not ref:
        return NONE, ""
    if HEX_ID.fullmatch(ref):
        return NONE, ""
    name, _, digest = ref.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1:]
    if digest:
        return name, ""
    # No tag given: the engine used "latest".
    return name, "latest"


# ---------------------------------------------------------------- the engine's Status line

_EXIT = re.compile(r"^(?:Exited|Restarting)\s*\((-?\d+)\)")
_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")


def exit_code_from_status(status: str) -> int | None:
    """``Exited (137) 5 minutes ago`` -> 137; None when the line carries no code."""
    m = _EXIT.match(status.strip())
    return int(m.group(1)) if m else None


def health_from_status(status: str) -> str | None:
    """``Up 5 minutes (healthy)`` -> ``healthy``; ``(health: starting)`` -> ``starting``; None
    when the container has no health check (or is not running: the engine says nothing then)."""
    m = _HEALTH.search(status)
    if not m:
        return None
    found = m.group(1)
    return "starting" if found == "health: starting" else found


def state_from_status(status: str) -> str:
    """The state for an engine too old to send ``State`` in its listing."""
    low = status.strip().lower()
    if low.startswith("up"):
        return "paused" if "(paused)" in low else "running"
    for prefix, state in (("exited", "exited"), ("restarting", "restarting"),
                          ("created", "created"), ("dead", "dead"), ("removal", "removing")):
        if low.startswith(prefix):
            return state
    return low.split(" ", 1)[0] if low else ""


# ---------------------------------------------------------------- time stamps

# ---------------------------------------------------------------- rows from the engine


def ownership(labels: Mapping[str, str], store_id: str) -> tuple[bool, str | None]:
    """(managed by some Moorings, the instance if it is one of this store's)."""
    return is_managed(labels), instance_of(labels, store_id)


def ports_from_listing(raw: Iterable[Mapping[str, Any]] | None) -> tuple[PortInfo, ...]:
    """The listing's Ports, deduplicated and sorted so that equal sets compare equal (the
    engine's order varies between listings)."""
    found: set[PortInfo] = set()
    for p in raw or []:
        private = p.get("PrivatePort")
        if private is None:
            continue
        public = p.get("PublicPort")
        found.add(PortInfo(int(private), str(p.get("Type") or "tcp"),
                           str(p["IP"]) if p.get("IP") else None,
                           int(public) if public else None))
    return tuple(sorted(found, key=lambda x: (x.container_port, x.protocol, x.host_ip or "",
                                              x.host_port or 0)))


def row_from_listing(item: Mapping[str, Any], store_id: str, *,
                     previous: ContainerRow | None = None) -> ContainerRow:
    """A row from one item of ``api.containers(all=True)``.

    The listing has no start time, so ``started`` comes from ``previous`` (set from events or
    a lazy inspect); a dead container's listing has no exit code, so the previous one stays.
    """
    cid = str(item.get("Id", ""))
    status = str(item.get("Status") or "")
    state = str(item.get("State") or "") or state_from_status(status)
    labels = {str(k): str(v) for k, v in (item.get("Labels") or {}).items()}
    managed, instance = ownership(labels, store_id)
    image, tag = split_image(str(item.get("Image") or item.get("ImageID") or ""))
    exit_code: int | None = None
    if state in ("exited", "dead"):
        exit_code = exit_code_from_status(status)
        if exit_code is None and previous is not None:
            exit_code = previous.exit_code
    # The last start stays on an exited row: it says when the run that ended began.
    started = previous.started if previous is not None else None
    return ContainerRow(
        id=cid,
        name=container_name(item.get("Names"), cid),
        image=image,
        tag=tag,
        state=state,
        exit_code=exit_code,
        health=health_from_status(status) if state == "running" else None,
        ports=ports_from_listing(item.get("Ports")),
        created=float(item.get("Created") or 0),
        started=started,
        instance=instance,
        managed=managed,
        status_text=status,
    )


def changed_fields(old: ContainerRow, new: ContainerRow) -> frozenset[str]:
    """Names of the dataclass fields that differ."""
    return frozenset(name for name in ContainerRow.__dataclass_fields__
                     if getattr(old, name) != getattr(new, name))


def image_rows(raw: Iterable[Mapping[str, Any]],
               users: Mapping[str, list[str]]) -> tuple[ImageRow, ...]:
    """Rows as ``docker images`` shows them: one per tag, one for an untagged image.

    ``users`` maps an image id to the names of the containers created from it.
    """
    out: list[ImageRow] = []
    for img in raw:
        iid = str(img.get("Id", ""))
        used_by = tuple(sorted(users.get(iid, [])))
        size = int(img.get("Size") or 0)
        created = float(img.get("Created") or 0)
        tags = [t for t in img.get("RepoTags") or [] if t and t != "<none>:<none>"]
        if tags:
            for t in tags:
                repo, tag = split_image(t)
                out.append(ImageRow(iid, repo, tag, size, created, used_by))
            continue
        digests = [d for d in img.get("RepoDigests") or [] if d and not d.startswith("<none>")]
        repo = split_image(digests[0])[0] if digests else NONE
        out.append(ImageRow(iid, repo, "", size, created, used_by))
    out.sort(key=lambda r: (r.repository == NONE, r.repository, r.tag, r.id))
    return tuple(out)

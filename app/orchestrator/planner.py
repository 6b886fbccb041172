"""The reconcile decision: desired instances against observed containers, as a list of actions.

Pure logic, no engine calls, so every rule is testable without Docker. The reconciler runs the
actions; running the planner again on the result gives no actions (level-based, idempotent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from app.engine.labels import LABEL_DIGEST, LABEL_INSTANCE, is_managed, is_ours
from app.engine.spec import ContainerSpec


@dataclass(frozen=True)
class Desired:
    """One stored instance as the orchestrator wants it."""

    name: str
    enabled: bool
    spec: ContainerSpec | None  # None when the stored values no longer validate
    problem: str = ""


@dataclass(frozen=True)
class Observed:
    """One container as the engine lists it."""

    id: str
    name: str
    state: str  # created, running, paused, restarting, exited, dead, removing
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.state in ("running", "restarting", "paused")

    def owned_by(self, store_id: str) -> bool:
        return is_ours(self.labels, store_id)

    @property
    def instance(self) -> str | None:
        return self.labels.get(LABEL_INSTANCE)

    @property
    def digest(self) -> str | None:
        return self.labels.get(LABEL_DIGEST)


class Kind(str, Enum):
    ADOPT = "adopt"              # ours, current, running: nothing to do
    START = "start"              # ours, current, stopped: start it
    KEEP_STOPPED = "keep-stopped"  # ours, current, stopped by a person: leave it
    KEEP_EXITED = "keep-exited"  # ours, current, exited by itself since we started it
    PULL = "pull"                # the image a create or recreate needs is not here yet
    CREATE = "create"            # none, and the image is here: create, start
    RECREATE = "recreate"        # ours, configuration changed, new image here: remove, create
    REMOVE = "remove"            # ours, instance disabled or deleted
    DISABLED = "disabled"        # disabled and nothing on the engine
    CONFLICT = "conflict"        # a container of that name that is not ours
    INVALID = "invalid"          # stored values no longer valid: touch nothing


@dataclass(frozen=True)
class Action:
    kind: Kind
    name: str
    container: Observed | None = None
    spec: ContainerSpec | None = None
    reason: str = ""


def plan(
    desired: Iterable[Desired],
    observed: Iterable[Observed],
    store_id: str,
    *,
    stopped_by_person: frozenset[str] = frozenset(),
    exited_by_itself: frozenset[str] = frozenset(),
    only: frozenset[str] | None = None,
    images: frozenset[str] | Callable[[str], bool] | None = None,
    pulled: Mapping[str, str] | None = None,
) -> list[Action]:
    """Decide what to do for every instance (or only those in ``only``) and every orphan.

    ``images`` tells which references the engine has: a set, or a function asked only for an
    instance that is to be created (None: take every image as present); ``pulled`` the
    reference each instance pulled since its last fresh start (an Always pull instance pulls
    once per fresh start, then uses what it pulled).
    """
    def has_image(reference: str) -> bool:
        if images is None:
            return True
        return images(reference) if callable(images) else reference in images

    def needs_pull(name: str, spec: ContainerSpec) -> bool:
        # A signed image is verified (and pulled by digest) once per fresh start, like an
        # Always pull one: a tag moved upstream is verified again before it runs.
        if (spec.pull.always or spec.signing is not None) \
                and (pulled or {}).get(name) != spec.reference:
            return True
        return not has_image(spec.reference)

    by_name: dict[str, Observed] = {}
    ours_by_instance: dict[str, list[Observed]] = {}
    for c in observed:
        by_name[c.name] = c
        if c.owned_by(store_id):
            ours_by_instance.setdefault(c.instance or "", []).append(c)

    actions: list[Action] = []
    wanted = {d.name: d for d in desired}
    for name, d in sorted(wanted.items()):
        if only is not None and name not in only:
            continue
        for action in _plan_one(d, by_name.get(name), ours_by_instance.get(name, []), store_id,
                                name in stopped_by_person, name in exited_by_itself):
            if action.kind in (Kind.CREATE, Kind.RECREATE) and action.spec is not None \
                    and needs_pull(name, action.spec):
                # The old container (if any) keeps running until the new image is here.
                action = Action(Kind.PULL, name, action.container, action.spec,
                                f"pulling {action.spec.reference} first")
            actions.append(action)

    # Containers that carry our store's labels for an instance that no longer exists were
    # left by a delete that the engine did not finish; they are ours to remove.
    for instance, containers in sorted(ours_by_instance.items()):
        if instance in wanted or (only is not None and instance not in only):
            continue
        for c in containers:
            actions.append(Action(Kind.REMOVE, instance, c, None, "the instance was deleted"))
    return actions


def _plan_one(
    d: Desired,
    same_name: Observed | None,
    ours: list[Observed],
    store_id: str,
    person_stopped: bool,
    exited: bool,
) -> list[Action]:
    out: list[Action] = []
    foreign = same_name is not None and not same_name.owned_by(store_id)
    if foreign:
        assert same_name is not None
        if not d.enabled:
            # Not ours and we do not want a container: nothing to say, nothing to touch.
            return [Action(Kind.DISABLED, d.name)]
        who = ("another Moorings configuration" if is_managed(same_name.labels)
               else "something other than Moorings")
        return [Action(
            Kind.CONFLICT, d.name, same_name, d.spec,
            f"a container named {d.name} (id {same_name.id[:12]}) already exists and was created "
            f"by {who}; Moorings will not touch it. Remove or rename that container, or delete "
            f"this instance and create it under another name.")]

    mine = same_name if same_name is not None else None
    # Ours under another name (should not happen; renamed by hand): treat as stale.
    stale = [c for c in ours if mine is None or c.id != mine.id]
    for c in stale:
        out.append(Action(Kind.REMOVE, d.name, c, None, "a stale container of this instance"))

    if not d.enabled:
        if mine is not None:
            out.append(Action(Kind.REMOVE, d.name, mine, None, "the instance is disabled"))
        out.append(Action(Kind.DISABLED, d.name))
        return out
    if d.spec is None:
        out.append(Action(Kind.INVALID, d.name, mine, None, d.problem))
        return out
    if mine is None:
        out.append(Action(Kind.CREATE, d.name, None, d.spec, "no container yet"))
        return out
    if mine.digest != d.spec.digest:
        out.append(Action(Kind.RECREATE, d.name, mine, d.spec, "the configuration changed"))
        return out
    if mine.running:
        out.append(Action(Kind.ADOPT, d.name, mine, d.spec))
    elif person_stopped:
        out.append(Action(Kind.KEEP_STOPPED, d.name, mine, d.spec))
    elif exited:
        out.append(Action(Kind.KEEP_EXITED, d.name, mine, d.spec))
    else:
        out.append(Action(Kind.START, d.name, mine, d.spec, "the container is not running"))
    return out

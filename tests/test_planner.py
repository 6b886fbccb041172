"""The reconcile planner, pure: every rule of desired against observed, and idempotence."""

from __future__ import annotations

from typing import Any

from app.config.model import default_values
from app.engine.labels import LABEL_DIGEST, LABEL_INSTANCE, LABEL_MANAGED, LABEL_STORE
from app.engine.spec import spec_from_values
from app.metatype import INSTANCE_FACTORY_PID, load_catalog
from app.orchestrator.planner import Desired, Kind, Observed, plan

STORE = "store-a"
COMP = load_catalog().by_pid(INSTANCE_FACTORY_PID)


def desired(name: str, enabled: bool = True, **values: Any) -> Desired:
    v = {**default_values(COMP), "container.ports.external": "", "container.ports.internal": "",
         **values}
    return Desired(name, enabled, spec_from_values(COMP, name, v))


def ours(d: Desired, state: str = "running", digest: str | None = None,
         store: str = STORE) -> Observed:
    assert d.spec is not None
    return Observed(f"id-{d.name}", d.name, state, {
        LABEL_MANAGED: "true", LABEL_INSTANCE: d.name, LABEL_STORE: store,
        LABEL_DIGEST: digest if digest is not None else d.spec.digest})


def kinds(actions: list[Any]) -> list[tuple[Kind, str]]:
    return [(a.kind, a.name) for a in actions]


def test_enabled_without_container_is_created() -> None:
    assert kinds(plan([desired("web")], [], STORE)) == [(Kind.CREATE, "web")]


def test_same_digest_running_is_adopted_and_stopped_is_started() -> None:
    d = desired("web")
    assert kinds(plan([d], [ours(d)], STORE)) == [(Kind.ADOPT, "web")]
    assert kinds(plan([d], [ours(d, "exited")], STORE)) == [(Kind.START, "web")]
    assert kinds(plan([d], [ours(d, "created")], STORE)) == [(Kind.START, "web")]


def test_person_stop_and_own_exit_are_respected() -> None:
    d = desired("web")
    stopped = plan([d], [ours(d, "exited")], STORE, stopped_by_person=frozenset({"web"}))
    assert kinds(stopped) == [(Kind.KEEP_STOPPED, "web")]
    exited = plan([d], [ours(d, "exited")], STORE, exited_by_itself=frozenset({"web"}))
    assert kinds(exited) == [(Kind.KEEP_EXITED, "web")]


def test_changed_digest_is_recreated() -> None:
    d = desired("web")
    assert kinds(plan([d], [ours(d, digest="old")], STORE)) == [(Kind.RECREATE, "web")]


def test_disabled_removes_ours_and_keeps_nothing_else() -> None:
    d = desired("web", enabled=False)
    assert kinds(plan([d], [ours(d)], STORE)) == [(Kind.REMOVE, "web"), (Kind.DISABLED, "web")]
    assert kinds(plan([d], [], STORE)) == [(Kind.DISABLED, "web")]


def test_foreign_container_is_a_conflict_never_touched() -> None:
    d = desired("web")
    foreign = Observed("x", "web", "running", {})
    actions = plan([d], [foreign], STORE)
    assert kinds(actions) == [(Kind.CONFLICT, "web")]
    assert "Moorings will not touch it" in actions[0].reason
    # Another Moorings configuration's container is foreign too.
    other = ours(d, store="store-b")
    assert kinds(plan([d], [other], STORE)) == [(Kind.CONFLICT, "web")]
    # Disabled with a foreign container of the name: nothing is removed.
    assert kinds(plan([desired("web", enabled=False)], [foreign], STORE)) == \
        [(Kind.DISABLED, "web")]


def test_deleted_instance_leaves_an_orphan_that_is_removed() -> None:
    gone = desired("old")
    actions = plan([], [ours(gone), Observed("f", "other", "running", {})], STORE)
    assert kinds(actions) == [(Kind.REMOVE, "old")]


def test_only_limits_the_pass() -> None:
    a, b = desired("aa"), desired("bb")
    assert kinds(plan([a, b], [], STORE, only=frozenset({"bb"}))) == [(Kind.CREATE, "bb")]


def test_invalid_stored_values_touch_nothing() -> None:
    d = Desired("web", True, None, "the stored configuration is not valid")
    actions = plan([d], [], STORE)
    assert kinds(actions) == [(Kind.INVALID, "web")]


def test_plan_is_idempotent_once_applied() -> None:
    a, b, c = desired("aa"), desired("bb"), desired("cc", enabled=False)
    observed = [ours(a), ours(b)]
    first = plan([a, b, c], observed, STORE)
    assert {k for k, _ in kinds(first)} == {Kind.ADOPT, Kind.DISABLED}
    assert plan([a, b, c], observed, STORE) == first


def test_a_missing_image_is_pulled_first_and_the_old_container_keeps_running() -> None:
    d = desired("web")
    assert d.spec is not None
    ref = d.spec.reference
    assert kinds(plan([d], [], STORE, images=frozenset())) == [(Kind.PULL, "web")]
    assert kinds(plan([d], [], STORE, images=frozenset({ref}))) == [(Kind.CREATE, "web")]
    old = ours(d, digest="old")
    pulling = plan([d], [old], STORE, images=frozenset())
    assert kinds(pulling) == [(Kind.PULL, "web")]
    assert pulling[0].container == old  # not removed while the new image is not here
    assert kinds(plan([d], [old], STORE, images=frozenset({ref}))) == [(Kind.RECREATE, "web")]
    # A running container that matches needs no image check at all.
    assert kinds(plan([d], [ours(d)], STORE, images=frozenset())) == [(Kind.ADOPT, "web")]


def test_always_pull_pulls_once_per_fresh_start() -> None:
    d = desired("web", **{"container.image.pull.always": True})
    assert d.spec is not None
    ref = d.spec.reference
    assert kinds(plan([d], [], STORE, images=frozenset({ref}))) == [(Kind.PULL, "web")]
    assert kinds(plan([d], [], STORE, images=frozenset({ref}), pulled={"web": ref})) == [
        (Kind.CREATE, "web")]


def test_a_signed_image_is_verified_once_per_fresh_start_even_when_present() -> None:
    d = desired("web", **{"container.signature.trust.anchor": "-----BEGIN PUBLIC KEY-----"})
    assert d.spec is not None
    assert d.spec.signing is not None
    ref = d.spec.reference
    # The tag is on the engine, but it may have moved upstream: verify (and pull) first.
    assert kinds(plan([d], [], STORE, images=frozenset({ref}))) == [(Kind.PULL, "web")]
    assert kinds(plan([d], [], STORE, images=frozenset({ref}), pulled={"web": ref})) == [
        (Kind.CREATE, "web")]
    # A running container of it is adopted: no check, no pull.
    assert kinds(plan([d], [ours(d)], STORE, images=frozenset())) == [(Kind.ADOPT, "web")]


def test_a_new_trust_anchor_recreates_but_the_digest_field_does_not() -> None:
    plain = desired("web")
    signed = desired("web", **{"container.signature.trust.anchor": "-----BEGIN PUBLIC KEY-----"})
    stored = desired("web", **{"container.signature.enforcement.digest": "sha256:" + "a" * 64})
    assert plain.spec is not None
    assert signed.spec is not None
    assert stored.spec is not None
    assert signed.spec.digest != plain.spec.digest
    assert stored.spec.digest == plain.spec.digest

"""The orchestrator's rules that the real engine makes slow to reach, on a fake engine behind
the injectable engine factory and a fake clock (pure logic: the same rules are exercised on the
real engine elsewhere, at their real speed)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fake_engine import FakeClock, FakeDocker, engines_for, own_containers

from app.config.repository import ConfigRepository
from app.config.store import ConfigStore
from app.engine.errors import EngineError, ErrorKind
from app.metatype import load_catalog
from app.orchestrator.events import Event, PullProgressed
from app.orchestrator.service import Orchestrator
from app.orchestrator.state import InstanceStatus, Phase

IMAGE = "fake/app"


def values(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"container.enabled": True, "container.image": IMAGE,
                            "container.image.tag": "1", "container.ports.internal": "",
                            "container.ports.external": "",
                            "container.image.download.retries": 3,
                            "container.image.download.interval": 100}
    base.update(overrides)
    return base


@contextmanager
def fake_orchestrator(tmp_path: Path) -> Iterator[tuple[Orchestrator, FakeDocker, FakeClock,
                                                        list[Event]]]:
    docker, clock = FakeDocker(), FakeClock()
    repo = ConfigRepository(ConfigStore(tmp_path), load_catalog())
    repo.update_service({"container.engine.host": "tcp://fake.invalid:2376"})
    orch = Orchestrator(repo, engines=engines_for(docker), clock=clock,
                        periodic_interval_s=3600, config_poll_s=3600)
    events: list[Event] = []
    orch.add_listener(events.append)
    orch.start()
    try:
        yield orch, docker, clock, events
    finally:
        orch.stop()


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.005)
    raise AssertionError("the condition never held")


def phase(orch: Orchestrator, name: str, wanted: Phase) -> InstanceStatus:
    return wait_for(lambda: (st := orch.status(name)) is not None and st.phase is wanted and st)


def poke(orch: Orchestrator) -> None:
    """Let the loop look at its timers now (after the fake clock moved)."""
    orch.reconcile([]).result(10)


def test_unlimited_attempts_back_off_doubling_up_to_ten_minutes(tmp_path: Path) -> None:
    with fake_orchestrator(tmp_path) as (orch, docker, clock, _):
        docker.pull_fails = EngineError("the registry has no fake/app:1", ErrorKind.NOT_FOUND)
        orch.create_instance("app", values(**{"container.image.download.retries": 0})).result(10)
        waits: list[float] = []
        for attempt in range(1, 14):
            st = wait_for(lambda a=attempt: (s := orch.status("app")) is not None
                          and s.phase is Phase.RETRY_WAIT and s.attempt == a and s)
            found = re.search(r"Next attempt in (\d+(?:\.\d+)?) s", st.reason)
            assert found, st.reason
            waits.append(float(found.group(1)))
            clock.advance(waits[-1])
            poke(orch)
        assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600, 600]
        wait_for(lambda: len(docker.pulls) >= 14)  # the last wait's attempt
        assert len(docker.pulls) == 14


def _stopped_outside(orch: Orchestrator, docker: FakeDocker) -> None:
    orch.create_instance("app", values()).result(10)
    docker.images.add(f"{IMAGE}:1")
    st = phase(orch, "app", Phase.RUNNING)
    assert st.container_id is not None
    # The engine reports a plain stop: a person's docker stop, or the engine shutting down.
    with docker.lock:
        docker.containers[st.container_id]["State"] = "exited"
    docker.emit("stop", st.container_id)
    phase(orch, "app", Phase.STOPPED_BY_PERSON)


def _engine_restarts(orch: Orchestrator, docker: FakeDocker, clock: FakeClock) -> None:
    docker.go_down()
    wait_for(lambda: not orch.connection().connected)
    docker.come_up()
    clock.advance(1)  # the first reconnect comes 0.5 s after the loss
    poke(orch)
    wait_for(lambda: orch.connection().connected)


def test_stops_just_before_the_engine_went_away_were_the_engine_s(tmp_path: Path) -> None:
    with fake_orchestrator(tmp_path) as (orch, docker, clock, _):
        docker.images.add(f"{IMAGE}:1")
        _stopped_outside(orch, docker)
        clock.advance(59)  # within the engine's shutdown window
        _engine_restarts(orch, docker, clock)
        phase(orch, "app", Phase.RUNNING)
        assert any(h.kind == "engine stop" for h in orch.history("app"))


def test_a_stop_long_before_the_engine_went_away_was_a_person_s(tmp_path: Path) -> None:
    with fake_orchestrator(tmp_path) as (orch, docker, clock, _):
        docker.images.add(f"{IMAGE}:1")
        _stopped_outside(orch, docker)
        clock.advance(61)  # outside the window: a person stopped it and it stays stopped
        _engine_restarts(orch, docker, clock)
        poke(orch)
        assert orch.status("app").phase is Phase.STOPPED_BY_PERSON  # type: ignore[union-attr]
        assert not any(h.kind == "engine stop" for h in orch.history("app"))


def test_deleting_an_instance_while_it_pulls_cancels_the_pull_at_once(tmp_path: Path) -> None:
    with fake_orchestrator(tmp_path) as (orch, docker, _, events):
        docker.pull_gate = gate = threading.Event()  # opened only at the end
        orch.create_instance("app", values()).result(10)
        wait_for(lambda: docker.pulls)
        phase(orch, "app", Phase.PULLING)
        orch.delete_instance("app").result(10)
        _, cancel = docker.pulls[0]
        assert cancel is not None
        assert cancel.is_set()  # cancelled by the delete, not left to run to its deadline
        after = len(events)
        time.sleep(0.2)  # the pull worker notices and says its last word
        late = [e for e in events[after:] if isinstance(e, PullProgressed)]
        assert late == []
        assert orch.status("app") is None
        assert orch.history("app") == []
        assert not (tmp_path / "history" / "app.jsonl").exists()
        gate.set()


def test_a_start_racing_a_remove_ends_with_one_running_container(tmp_path: Path) -> None:
    with fake_orchestrator(tmp_path) as (orch, docker, _, _events):
        docker.images.add(f"{IMAGE}:1")
        orch.create_instance("app", values()).result(10)
        phase(orch, "app", Phase.RUNNING)
        docker.remove_gate = gate = threading.Event()
        disabling = orch.apply("app", {"container.enabled": False})
        phase(orch, "app", Phase.REMOVING)
        enabling = orch.apply("app", {"container.enabled": True})
        start = orch.start_container("app")
        time.sleep(0.1)
        assert not enabling.done()  # it waits for the removal under way, not beside it
        gate.set()
        for future in (disabling, enabling, start):
            future.result(10)
        st = phase(orch, "app", Phase.RUNNING)
        mine = own_containers(docker, "app", orch.store_id)
        assert len(mine) == 1
        assert mine[0]["Id"] == st.container_id
        assert mine[0]["State"] == "running"


def test_a_stop_pressed_while_the_start_settles_is_carried_out_after_it(
        tmp_path: Path) -> None:
    with fake_orchestrator(tmp_path) as (orch, docker, _, _events):
        docker.images.add(f"{IMAGE}:1")
        docker.start_gate = gate = threading.Event()
        creating = orch.create_instance("app", values())
        # The container runs and its start event is out, while the start step settles.
        wait_for(lambda: any(c["State"] == "running"
                             for c in own_containers(docker, "app", orch.store_id)))
        stopping = orch.stop_container("app")
        time.sleep(0.1)
        assert not stopping.done()  # it waits for the start step; it is not refused
        gate.set()
        creating.result(10)
        stopping.result(10)
        phase(orch, "app", Phase.STOPPED_BY_PERSON)
        assert [c["State"] for c in own_containers(docker, "app", orch.store_id)] != ["running"]


@pytest.mark.parametrize("kind", ["pull", "start"])
def test_given_up_stays_given_up_whatever_passes(tmp_path: Path, kind: str) -> None:
    with fake_orchestrator(tmp_path) as (orch, docker, clock, _):
        if kind == "pull":
            docker.pull_fails = EngineError("registry refused the username or password",
                                            ErrorKind.AUTH)
        else:
            docker.images.add(f"{IMAGE}:1")
            docker.start_fails = EngineError("the engine refused to start it", ErrorKind.CONFIG)
        orch.create_instance("app", values(**{
            "container.image.download.retries": 2})).result(10)
        for _ in range(2):
            clock.advance(1)
            poke(orch)
        st = phase(orch, "app", Phase.FAILED)
        assert "gave up after 2 attempts" in st.reason
        wait_for(lambda: not own_containers(docker, "app", orch.store_id))
        tries = len(docker.pulls)
        for _ in range(5):  # periodic passes, a reconnect: none tries again
            clock.advance(3600)
            poke(orch)
        _engine_restarts(orch, docker, clock)
        poke(orch)
        assert len(docker.pulls) == tries
        st = orch.status("app")
        assert st is not None
        assert st.phase is Phase.FAILED
        assert "gave up after 2 attempts" in st.reason
        assert not own_containers(docker, "app", orch.store_id)

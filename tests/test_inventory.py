"""The live inventory on the real engine: rows from events, actions, refusals, engine restarts."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import TestEnv, start_engine, stop_engine
from orchestration import Recorder, instance_values, running

from app import threadguard as guard
from app.config.repository import ConfigRepository
from app.config.store import ConfigStore
from app.engine.errors import EngineError
from app.engine.times import parse_rfc3339
from app.inventory.feed import (
    FeedState,
    ImagesChanged,
    Inventory,
    InventoryEvent,
    RowAdded,
    RowChanged,
    RowRemoved,
)
from app.inventory.rows import (
    NONE,
    ContainerRow,
    PortInfo,
    exit_code_from_status,
    health_from_status,
    image_rows,
    row_from_listing,
    split_image,
)
from app.metatype import load_catalog
from app.orchestrator.service import Orchestrator
from app.orchestrator.state import Phase

engine = pytest.mark.engine
PREFIX = "moorings-test-inv-"


# ---------------------------------------------------------------- pure: parsing the listing

def test_split_image_keeps_registry_ports_in_the_repository() -> None:
    assert split_image("127.0.0.1:5000/moorings-test/busybox:1") == (
        "127.0.0.1:5000/moorings-test/busybox", "1")
    assert split_image("localhost:5000/app") == ("localhost:5000/app", "latest")
    assert split_image("registry.example.com:443/team/app:2.1-rc") == (
        "registry.example.com:443/team/app", "2.1-rc")
    assert split_image("busybox") == ("busybox", "latest")
    assert split_image("eclipse/kura:5.4.0") == ("eclipse/kura", "5.4.0")
    digest = "sha256:" + "a" * 64
    assert split_image(f"host:5000/app@{digest}") == ("host:5000/app", "")
    assert split_image(f"app:1@{digest}") == ("app", "1")
    assert split_image(digest) == (NONE, "")
    assert split_image("7c4fd78c8727") == (NONE, "")
    assert split_image("") == (NONE, "")


def test_exit_code_and_health_from_status_lines() -> None:
    assert exit_code_from_status("Exited (137) 5 minutes ago") == 137
    assert exit_code_from_status("Exited (0) Less than a second ago") == 0
    assert exit_code_from_status("Restarting (1) 3 seconds ago") == 1
    assert exit_code_from_status("Up 5 minutes") is None
    assert health_from_status("Up 5 minutes (healthy)") == "healthy"
    assert health_from_status("Up 2 seconds (health: starting)") == "starting"
    assert health_from_status("Up 1 hour (unhealthy)") == "unhealthy"
    assert health_from_status("Up 1 hour (Paused)") is None
    assert health_from_status("Up 1 hour") is None


def test_row_from_listing_and_state_labels() -> None:
    item = {
        "Id": "c" * 64, "Names": ["/web", "/other/alias"],
        "Image": "127.0.0.1:5000/shop/web:3", "ImageID": "sha256:" + "d" * 64,
        "Created": 1700000000,
        "Ports": [{"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                  {"PrivatePort": 9000, "Type": "udp"},
                  {"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}],
        "Labels": {"io.moorings.managed": "true", "io.moorings.instance": "web",
                   "io.moorings.store": "mine"},
        "State": "running", "Status": "Up 3 minutes (healthy)",
    }
    row = row_from_listing(item, "mine")
    assert (row.name, row.image, row.tag) == ("web", "127.0.0.1:5000/shop/web", "3")
    assert row.ports == (PortInfo(80, "tcp", "127.0.0.1", 8080), PortInfo(9000, "udp", None, None))
    assert row.ports[0].label() == "127.0.0.1:8080->80/tcp"
    assert (row.instance, row.managed, row.health) == ("web", True, "healthy")
    assert row.state_label() == "running (healthy)"
    assert row.created == 1700000000.0
    assert row.started is None
    # Another Moorings' container: managed, but not one of our instances.
    assert row_from_listing(item, "theirs").instance is None
    assert row_from_listing(item, "theirs").managed

    exited = row_from_listing({**item, "State": "exited", "Status": "Exited (137) 2 hours ago",
                               "Labels": {}}, "mine", previous=row)
    assert exited.exit_code == 137
    assert exited.health is None
    assert exited.state_label() == "exited (code 137)"
    assert not exited.managed
    assert exited.instance is None
    starting = row_from_listing({**item, "Status": "Up 1 second (health: starting)"}, "mine")
    assert starting.state_label() == "running (health: starting)"
    assert row_from_listing({**item, "State": "restarting", "Status": "Restarting (1) 2 seconds "
                                                                      "ago"}, "mine"
                            ).state_label() == "restarting"
    assert row_from_listing({**item, "Image": "sha256:" + "d" * 64}, "mine").image == NONE


def test_image_rows_one_per_tag_and_users() -> None:
    raw = [{"Id": "sha256:aa", "RepoTags": ["reg:5000/a:1", "a:1"], "Size": 10, "Created": 5},
           {"Id": "sha256:bb", "RepoTags": None, "RepoDigests": ["b@sha256:" + "e" * 64],
            "Size": 3, "Created": 6},
           {"Id": "sha256:cc", "RepoTags": ["<none>:<none>"], "RepoDigests": [], "Size": 1,
            "Created": 7}]
    rows = image_rows(raw, {"sha256:aa": ["web", "api"]})
    assert [(r.repository, r.tag, r.used_by) for r in rows] == [
        ("a", "1", ("api", "web")), ("b", "", ()), ("reg:5000/a", "1", ("api", "web")),
        (NONE, "", ())]
    assert rows[0].ref == "a:1"
    assert rows[1].ref == "sha256:bb"
    assert rows[3].ref == "sha256:cc"


def test_rfc3339() -> None:
    assert parse_rfc3339("2024-01-02T03:04:05Z") == 1704164645.0
    assert parse_rfc3339("2024-01-02T03:04:05.5+01:00") == 1704164645.5 - 3600
    assert abs(parse_rfc3339("2024-01-02T03:04:05.123456789Z") - 1704164645.123456789) < 1e-6
    assert parse_rfc3339("0001-01-01T00:00:00Z") is None
    assert parse_rfc3339("") is None


# ---------------------------------------------------------------- the real engine

class Events:
    """Every inventory event, and waiting on the inventory's own snapshot."""

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self.items: list[InventoryEvent] = []
        self._lock = threading.Lock()
        inv.add_listener(self._add)

    def _add(self, event: InventoryEvent) -> None:
        with self._lock:
            self.items.append(event)

    def all(self) -> list[InventoryEvent]:
        with self._lock:
            return list(self.items)

    def states(self) -> list[str]:
        return [e.state for e in self.all() if isinstance(e, FeedState)]

    def wait(self, pred: Callable[[], object], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return
            time.sleep(0.02)
        raise AssertionError(f"never: {what}; state {self.inv.state()}")

    def wait_row(self, name: str, pred: Callable[[ContainerRow], bool] = lambda r: True,
                 timeout: float = 20.0) -> ContainerRow:
        found: list[ContainerRow] = []

        def check() -> bool:
            rows = [r for r in self.inv.rows() if r.name == name and pred(r)]
            found[:] = rows
            return bool(rows)
        try:
            self.wait(check, f"a row {name} as expected", timeout)
        except AssertionError as e:
            last = [r for r in self.inv.rows() if r.name == name]
            raise AssertionError(f"{e}; row now: {last}") from None
        return found[0]


@dataclass
class Live:
    inv: Inventory
    orch: Orchestrator
    rec: Recorder
    events: Events


@pytest.fixture
def live(tmp_path: Path, test_env: TestEnv) -> Iterator[Live]:
    with running(tmp_path, test_env) as (orch, rec):
        inv = Inventory(orch, heal_interval_s=30.0)
        events = Events(inv)
        inv.start()
        try:
            events.wait(lambda: inv.state().state == "live", "the first load", 30)
            yield Live(inv, orch, rec, events)
        finally:
            inv.stop()


def docker(env: TestEnv, *args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], env={**os.environ, "DOCKER_HOST": env.docker_host},
                            capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def run_sleeper(env: TestEnv, name: str, *extra: str, command: tuple[str, ...] = ("sleep", "300")
                ) -> str:
    return docker(env, "run", "-d", "--name", name, "--init", *extra, env.image, *command)


def ps_ids(env: TestEnv) -> set[str]:
    return set(docker(env, "ps", "-a", "-q", "--no-trunc").split())


@engine
@pytest.mark.usefixtures("cleanup")
def test_first_load_is_docker_ps_a(tmp_path: Path, test_env: TestEnv) -> None:
    run_sleeper(test_env, PREFIX + "ps")
    before = ps_ids(test_env)
    with running(tmp_path, test_env) as (orch, _rec):
        inv = Inventory(orch)
        events = Events(inv)
        inv.start()
        try:
            events.wait(lambda: inv.state().state == "live", "the first load", 30)
            after = ps_ids(test_env)
            items = events.all()
            live_at = next(i for i, e in enumerate(items)
                           if isinstance(e, FeedState) and e.state == "live")
            first = {e.row.id for e in items[:live_at] if isinstance(e, RowAdded)}
            # Others share this engine: what existed before and after must be there, and
            # nothing that existed at neither moment.
            assert before & after <= first <= before | after
            # Start times come after the rows are out (lazily inspected), never before.
            assert not any(isinstance(e, RowChanged) and "started" in e.fields
                           for e in items[:live_at])
            row = events.wait_row(PREFIX + "ps", lambda r: r.started is not None)
            assert abs(row.started - time.time()) < 120
            assert (row.image, row.tag, row.state) == ("moorings-test/busybox", "1", "running")
            assert not row.managed
            assert row.instance is None
            assert inv.images()
            assert all(img.id for img in inv.images())
        finally:
            inv.stop()


@engine
@pytest.mark.usefixtures("cleanup")
def test_foreign_container_appears_and_goes(live: Live, test_env: TestEnv) -> None:
    name = PREFIX + "live"
    cid = run_sleeper(test_env, name)
    row = live.events.wait_row(name, lambda r: r.state == "running" and r.started is not None)
    assert row.id == cid
    assert (row.image, row.tag, row.managed, row.instance) == (
        "moorings-test/busybox", "1", False, None)
    assert row.status_text.startswith("Up")
    added = [e for e in live.events.all() if isinstance(e, RowAdded) and e.row.id == cid]
    assert len(added) == 1
    changes = [e for e in live.events.all() if isinstance(e, RowChanged) and e.row.id == cid]
    for change in changes:
        assert change.fields
        assert "id" not in change.fields
    live.events.wait(lambda: any(name in img.used_by for img in live.inv.images()),
                     "the image lists the container as a user")
    docker(test_env, "rm", "-f", name)
    live.events.wait(lambda: live.inv.row(cid) is None, "the row removed")
    assert any(isinstance(e, RowRemoved) and e.id == cid for e in live.events.all())


@engine
@pytest.mark.usefixtures("cleanup")
def test_exit_code_health_and_ports(live: Live, test_env: TestEnv) -> None:
    docker(test_env, "run", "--name", PREFIX + "exit", "--init", test_env.image, "sh", "-c",
           "exit 3", check=False)
    run_sleeper(test_env, PREFIX + "health", "--health-cmd", "true", "--health-interval", "1s")
    run_sleeper(test_env, PREFIX + "ports", "-p", "127.0.0.1::80", "-p", "127.0.0.1::53/udp")

    exited = live.events.wait_row(PREFIX + "exit", lambda r: r.state == "exited")
    assert exited.exit_code == 3
    assert exited.state_label() == "exited (code 3)"

    healthy = live.events.wait_row(PREFIX + "health", lambda r: r.health == "healthy")
    assert healthy.state_label() == "running (healthy)"

    ports = live.events.wait_row(PREFIX + "ports", lambda r: len(r.ports) == 2).ports
    assert [(p.container_port, p.protocol, p.host_ip) for p in ports] == [
        (53, "udp", "127.0.0.1"), (80, "tcp", "127.0.0.1")]
    assert all(p.host_port for p in ports)


@engine
@pytest.mark.usefixtures("cleanup")
def test_actions_on_a_foreign_container(live: Live, test_env: TestEnv) -> None:
    name = PREFIX + "act"
    cid = run_sleeper(test_env, name)
    first = live.events.wait_row(name, lambda r: r.started is not None)

    live.inv.stop_container(cid).result(30)
    live.events.wait_row(name, lambda r: r.state == "exited")
    live.inv.start_container(cid).result(30)
    again = live.events.wait_row(name, lambda r: r.state == "running")
    assert again.started is not None
    assert first.started is not None
    assert again.started > first.started
    live.inv.restart_container(cid).result(30)
    restarted = live.events.wait_row(
        name, lambda r: r.state == "running" and r.started is not None
        and again.started is not None and r.started > again.started)
    assert restarted.id == cid
    live.inv.remove_container(cid).result(30)
    live.events.wait(lambda: live.inv.row(cid) is None, "the row removed")
    assert docker(test_env, "ps", "-a", "-q", "--filter", f"id={cid}") == ""
    with pytest.raises(EngineError, match="no container"):
        live.inv.stop_container(cid).result(30)


@engine
@pytest.mark.usefixtures("cleanup")
def test_instance_container_goes_through_the_orchestrator(live: Live, test_env: TestEnv) -> None:
    name = PREFIX + "inst"
    live.orch.create_instance(name, instance_values(test_env)).result(30)
    live.rec.wait_phase(name, Phase.RUNNING)
    row = live.events.wait_row(name, lambda r: r.state == "running")
    assert row.instance == name
    assert row.managed

    with pytest.raises(EngineError) as refused:
        live.inv.remove_container(row.id).result(30)
    assert refused.value.sentence == (
        f"the container {name} belongs to the instance {name}; disable or delete the instance "
        "to remove it")
    assert live.inv.row(row.id) is not None

    live.inv.stop_container(row.id).result(30)
    st = live.rec.wait_phase(name, Phase.STOPPED_BY_PERSON)
    assert "stopped by a person" in st.reason
    live.events.wait_row(name, lambda r: r.state == "exited")
    live.inv.start_container(row.id).result(30)
    live.rec.wait_phase(name, Phase.RUNNING)
    live.events.wait_row(name, lambda r: r.state == "running")


@engine
@pytest.mark.usefixtures("cleanup")
def test_image_remove_refused_while_used(live: Live, test_env: TestEnv) -> None:
    ref = f"{PREFIX}img/used:{uuid.uuid4().hex[:8]}"
    repo, tag = ref.rsplit(":", 1)
    base = PREFIX + "img-base"
    user = PREFIX + "img-user"
    docker(test_env, "create", "--name", base, test_env.image, "true")
    # A commit makes an image of its own (another id): the shared test image is never touched.
    docker(test_env, "commit", base, ref)
    try:
        docker(test_env, "create", "--name", user, "--init", ref, "true")
        live.events.wait(lambda: any(i.repository == repo and i.tag == tag and user in i.used_by
                                     for i in live.inv.images()), "the image used by its user")
        with pytest.raises(EngineError) as refused:
            live.inv.remove_image(ref).result(30)
        assert user in refused.value.sentence
        assert refused.value.sentence.startswith(f"the image {ref} is used by the container")
        docker(test_env, "rm", "-f", user)
        live.inv.remove_image(ref).result(30)
        live.events.wait(lambda: not any(i.repository == repo for i in live.inv.images()),
                         "the image gone from the list")
        assert any(isinstance(e, ImagesChanged) for e in live.events.all())
    finally:
        docker(test_env, "rm", "-f", user, base, check=False)
        docker(test_env, "rmi", "-f", ref, check=False)


@engine
@pytest.mark.usefixtures("cleanup")
def test_engine_restart_keeps_rows_stale_then_resyncs(live: Live, test_env: TestEnv) -> None:
    if not test_env.engine_restartable:
        pytest.skip("this engine was not started by the harness, so the tests may not stop it")
    name = PREFIX + "restart"
    cid = run_sleeper(test_env, name)
    live.events.wait_row(name, lambda r: r.state == "running")
    try:
        stop_engine(test_env)
        live.events.wait(lambda: live.inv.state().state == "stale", "stale", 30)
        stale = live.inv.state()
        assert stale.since is not None
        assert stale.reason
        assert live.inv.row(cid) is not None, "the rows are kept while the engine is away"
        assert live.inv.rows()
    finally:
        start_engine()
    live.events.wait(lambda: live.inv.state().state == "live", "live again", 90)
    states = live.events.states()
    assert states.index("stale") < len(states) - 1 - states[::-1].index("reconnecting")
    # Re-synced: the engine's stop took the container down with it, and the row says so.
    truth = docker(test_env, "inspect", "-f", "{{.State.Status}}", name, check=False)
    row = live.inv.row(cid)
    if truth:
        assert row is not None
        assert row.state == truth

    def matches_engine() -> bool:
        # Others share this engine: compare with what it listed just before and just after.
        before = ps_ids(test_env)
        rows = {r.id for r in live.inv.rows()}
        after = ps_ids(test_env)
        return before & after <= rows <= before | after
    live.events.wait(matches_engine, "the rows re-synced with docker ps -a")


@engine
@pytest.mark.usefixtures("cleanup")
def test_heal_pass_catches_what_events_missed(tmp_path: Path, test_env: TestEnv) -> None:
    with running(tmp_path, test_env) as (orch, _rec):
        inv = Inventory(orch, heal_interval_s=0.5)
        events = Events(inv)
        inv.start()
        try:
            events.wait(lambda: inv.state().state == "live", "the first load", 30)
            # Deaf to events from now on: only the heal pass can see the container.
            orch.remove_listener(inv._on_orchestrator_event)
            cid = run_sleeper(test_env, PREFIX + "heal")
            row = events.wait_row(PREFIX + "heal", lambda r: r.state == "running", timeout=10)
            assert row.id == cid
            docker(test_env, "rm", "-f", cid)
            events.wait(lambda: inv.row(cid) is None, "the row removed by the heal pass", 10)
        finally:
            inv.stop()


def test_unreachable_engine_is_an_error_not_an_empty_table(tmp_path: Path) -> None:
    repo = ConfigRepository(ConfigStore(tmp_path), load_catalog())
    repo.update_service({"container.engine.host": f"unix://{tmp_path}/no-engine.sock"})
    orch = Orchestrator(repo)
    orch.start()
    inv = Inventory(orch)
    events = Events(inv)
    inv.start()
    try:
        events.wait(lambda: inv.state().state == "error", "the error state", 10)
        assert "no-engine.sock" in inv.state().reason or "engine" in inv.state().reason
        assert inv.rows() == []
        assert "live" not in events.states()
        with pytest.raises(EngineError, match="not connected"):
            inv.refresh().result(10)
        with pytest.raises(EngineError, match="not connected"):
            inv.stop_container("whatever").result(10)
    finally:
        inv.stop()
        orch.stop()
    with pytest.raises(EngineError, match="not running"):
        inv.refresh().result(1)


@engine
@pytest.mark.usefixtures("cleanup")
def test_public_calls_never_touch_the_engine_on_the_callers_thread(
        live: Live, test_env: TestEnv) -> None:
    name = PREFIX + "guard"
    cid = run_sleeper(test_env, name)
    live.events.wait_row(name, lambda r: r.state == "running")
    guard.forbid_current_thread()  # as the GUI thread is: any engine call here would raise
    try:
        began = time.monotonic()
        futures = [live.inv.refresh(), live.inv.restart_container(cid),
                   live.inv.remove_image("moorings-test-inv-no/such:image")]
        live.inv.rows()
        live.inv.images()
        live.inv.state()
        assert time.monotonic() - began < 0.1
    finally:
        guard.allow_current_thread()
    futures[0].result(30)
    futures[1].result(30)
    with pytest.raises(EngineError, match="no image"):
        futures[2].result(30)

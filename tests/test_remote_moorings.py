"""MOORINGS-V1 over the real broker, on the real engine: logs (tail, stream, since, the size
cap), history, rich state, delete, and state notifications under the device's own subtree."""

from __future__ import annotations

import json

import docker
import pytest
from harness import TestEnv
from kapua_client import KapuaConsole, Metric
from orchestration import Recorder, instance_values
from remote_helpers import next_message

from app.core import Core
from app.orchestrator.state import Phase

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]
APP = "MOORINGS-V1"
CHATTY = ("sh,-c,i=0; while [ $i -lt 50 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done; "
          "trap 'exit 0' TERM; sleep 3600 & wait")
FLOOD = ("sh,-c,i=0; while [ $i -lt 20000 ]; do echo line-$i-0123456789abcdef; i=$((i+1)); "
         "done; trap 'exit 0' TERM; sleep 3600 & wait")




def test_state_notifications_logs_history_and_delete(
        gw: tuple[Core, str], console: KapuaConsole, test_env: TestEnv,
        docker_client: docker.DockerClient) -> None:
    core, cid = gw
    rec = Recorder(core.orchestrator)
    name = "moorings-test-mv1"
    notes = console.watch(f"$EDC/{console.account}/{cid}/{APP}/NOTIFY/instances/#")
    core.orchestrator.create_instance(
        name, instance_values(test_env, **{"container.entrypoint": CHATTY})).result(120)
    rec.wait_phase(name, Phase.RUNNING)
    while True:  # pushed, not polled: the phases arrive as they happen
        note = next_message(notes, suffix=f"/instances/{name}")
        doc = json.loads(note.payload.body) if note.payload else {}
        if doc.get("phase") == "running":
            break
    assert note.metrics == {"name": name, "phase": "running"}
    assert doc["containerId"]

    # Logs: the engine has them all once the loop is done; tail and stream filter them.
    def logs(**metrics: object) -> tuple[list[str], dict[str, object]]:
        reply = console.request(cid, APP, "GET", f"containers/{name}/logs", metrics=metrics)
        assert reply.code == 200, reply.metrics
        assert reply.types["lines"] == Metric.INT32
        assert reply.types["truncated"] == Metric.BOOL
        return reply.text.splitlines(), reply.metrics

    lines, _ = logs(tail=1000)
    while "err49" not in lines:
        lines, _ = logs(tail=1000)
    tail5, meta = logs(tail=5)
    assert len(tail5) == 5
    assert meta["lines"] == 5
    assert meta["truncated"] is False
    errs, _ = logs(tail=1000, stream="stderr")
    assert errs == [f"err{i}" for i in range(50)]
    stamped, _ = logs(tail=1, timestamps=True)
    assert stamped[0].split(" ", 1)[0].startswith("20")
    future, _ = logs(since=2 ** 42)
    assert future == []
    assert console.request(cid, APP, "GET", "containers/moorings-test-none/logs").code == 404
    assert console.request(cid, APP, "GET", f"containers/{name}/logs",
                           metrics={"stream": "all"}).code == 400

    # History and rich state.
    history = console.request(cid, APP, "GET", f"instances/{name}/history").json()["history"]
    assert "created" in [e["kind"] for e in history]
    rich = console.request(cid, APP, "GET", f"instances/{name}").json()
    assert rich["phase"] == "running"
    assert rich["container"]["configDigest"]
    assert rich["container"]["id"] == docker_client.containers.get(name).id
    listing = console.request(cid, APP, "GET", "instances").json()["instances"]
    assert [i["name"] for i in listing] == [name]

    # Delete, as a person's Delete: the container goes, and a notification says so.
    assert console.request(cid, APP, "DEL", f"instances/{name}").code == 200
    while True:
        note = next_message(notes, suffix=f"/instances/{name}")
        if note.metrics.get("phase") == "removed":
            break
    assert not docker_client.containers.list(all=True, filters={"name": f"^{name}$"})
    assert console.request(cid, APP, "GET", f"instances/{name}").code == 404


def test_logs_are_capped_to_the_newest_256_kib(gw: tuple[Core, str], console: KapuaConsole,
                                              test_env: TestEnv) -> None:
    core, cid = gw
    rec = Recorder(core.orchestrator)
    name = "moorings-test-mv1-flood"
    core.orchestrator.create_instance(
        name, instance_values(test_env, **{"container.entrypoint": FLOOD})).result(120)
    rec.wait_phase(name, Phase.RUNNING)
    while True:
        reply = console.request(cid, APP, "GET", f"containers/{name}/logs",
                                metrics={"tail": 100000})
        if reply.text.endswith("line-19999-0123456789abcdef\n"):
            break
    assert reply.metrics["truncated"] is True
    assert len(reply.body) <= 256 * 1024
    assert reply.metrics["lines"] == reply.text.count("\n") < 20000

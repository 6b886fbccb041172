"""CONF-V1 over the real broker, on the real engine: configurations in Kura's XML with OCDs,
create and change by PUT (Kura's merge), an invalid PUT refused whole, passwords never sent and
kept across a GET, edit, PUT round trip, and snapshots."""

from __future__ import annotations

import base64
import re
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import docker
import pytest
from harness import TestEnv
from kapua_client import KapuaConsole
from orchestration import SLEEPER, Recorder, registry_values

from app.core import Core
from app.metatype import INSTANCE_FACTORY_PID, SERVICE_PID
from app.orchestrator.state import Phase
from app.remote.conf_v1 import PASSWORD_STAND_IN

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]
APP = "CONF-V1"
ESF = "{http://eurotech.com/esf/2.0}"
OCD = "{http://www.osgi.org/xmlns/metatype/v1.2.0}"




def _prop(name: str, kind: str, value: str, *, encrypted: bool = False) -> str:
    return (f'<esf:property name="{name}" array="false" encrypted="{str(encrypted).lower()}" '
            f'type="{kind}"><esf:value>{escape(value)}</esf:value></esf:property>')


def _document(pid: str, props: list[str]) -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<esf:configurations xmlns:esf="http://eurotech.com/esf/2.0" '
            'xmlns:ocd="http://www.osgi.org/xmlns/metatype/v1.2.0">'
            f'<esf:configuration pid="{pid}"><esf:properties>{"".join(props)}'
            '</esf:properties></esf:configuration></esf:configurations>')


def _values(config: ET.Element) -> dict[str, tuple[str, list[str]]]:
    props = config.find(f"{ESF}properties")
    assert props is not None
    return {p.get("name", ""): (p.get("type", ""), [v.text or "" for v in p])
            for p in props}


def _wait_for(pred: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("never happened")


def test_create_change_refuse_and_round_trip_a_password(
        gw: tuple[Core, str], console: KapuaConsole, test_env: TestEnv,
        docker_client: docker.DockerClient) -> None:
    core, cid = gw
    repo = core.repository
    rec = Recorder(core.orchestrator)
    name = "moorings-test-conf"
    values = registry_values(test_env, **{"container.env": "MODE=one"})
    password = values["registry.password"]
    b64 = base64.b64encode(password.encode()).decode()

    # Create: a PUT of a new pid with service.factoryPid, as Kura creates factory components.
    props = [_prop("service.factoryPid", "String", INSTANCE_FACTORY_PID),
             _prop("kura.service.pid", "String", name)]
    for key, value in values.items():
        if key == "registry.password":
            props.append(_prop(key, "Password", b64, encrypted=True))
        elif isinstance(value, bool):
            props.append(_prop(key, "Boolean", str(value).lower()))
        elif isinstance(value, int):
            props.append(_prop(key, "Integer", str(value)))
        else:
            props.append(_prop(key, "String", str(value)))
    reply = console.request(cid, APP, "PUT", "configurations", _document(name, props))
    assert reply.code == 200, reply.metrics
    rec.wait_phase(name, Phase.RUNNING, timeout=120)
    assert "MODE=one" in docker_client.containers.get(name).attrs["Config"]["Env"]

    # GET: Kura's layout (OCD first, properties last), and no password on the wire.
    reply = console.request(cid, APP, "GET", f"configurations/{name}")
    assert reply.code == 200
    assert password not in reply.text
    assert b64 not in reply.text
    root = ET.fromstring(reply.body)
    (config,) = root.findall(f"{ESF}configuration")
    assert [child.tag for child in config] == [f"{OCD}OCD", f"{ESF}properties"]
    ocd = config.find(f"{OCD}OCD")
    assert ocd is not None
    assert ocd.get("id") == INSTANCE_FACTORY_PID
    ads = {ad.get("id"): ad for ad in ocd}
    assert ads["container.loggingType"].findall(f"{OCD}Option")
    got = _values(config)
    assert got["service.factoryPid"] == ("String", [INSTANCE_FACTORY_PID])
    assert got["registry.password"] == (
        "Password", [base64.b64encode(PASSWORD_STAND_IN.encode()).decode()])

    # Edit one value and PUT the whole document back, as Kapua's form does.
    text = reply.text.replace("<esf:value>MODE=one</esf:value>",
                              "<esf:value>MODE=two</esf:value>")
    old_id = docker_client.containers.get(name).id
    assert console.request(cid, APP, "PUT", f"configurations/{name}", text).code == 200
    _wait_for(lambda: docker_client.containers.list(all=True, filters={"name": name})
              and docker_client.containers.get(name).id != old_id)
    rec.wait_phase(name, Phase.RUNNING, timeout=120)
    assert "MODE=two" in docker_client.containers.get(name).attrs["Config"]["Env"]
    assert repo.instance(name).values["registry.password"] == password

    # Kura's merge: a PUT of one property leaves the others as they are.
    merge = _document(name, [_prop("container.env", "String", "MODE=three")])
    assert console.request(cid, APP, "PUT", f"configurations/{name}", merge).code == 200
    _wait_for(lambda: repo.instance(name).values["container.env"] == "MODE=three")
    assert repo.instance(name).values["container.entrypoint"] == SLEEPER
    assert repo.instance(name).values["registry.password"] == password
    rec.wait_phase(name, Phase.RUNNING, timeout=120)

    # Invalid: every error, by instance and field; nothing changed.
    stored = dict(repo.instance(name).values)
    container_id = docker_client.containers.get(name).id
    revision = repo.revision
    bad = _document(name, [_prop("container.ports.internal", "String", "80:tcp,81:xyz"),
                           _prop("container.memory", "String", "lots")])
    reply = console.request(cid, APP, "PUT", "configurations", bad)
    assert reply.code == 400
    message = reply.metrics["response.exception.message"]
    assert "nothing was changed" in message
    assert f"{name}: Internal Ports (container.ports.internal)" in message
    assert f"{name}: Memory (container.memory)" in message
    fields = {e["field"] for e in reply.json()["errors"]}
    assert fields == {"container.ports.internal", "container.memory"}, reply.json()
    time.sleep(1.5)  # the 1 s Kura waits before an update: none may follow
    assert repo.revision == revision
    assert dict(repo.instance(name).values) == stored
    assert docker_client.containers.get(name).id == container_id


def test_service_unknown_pids_and_snapshots(gw: tuple[Core, str], console: KapuaConsole,
                                            test_env: TestEnv) -> None:
    core, cid = gw
    repo = core.repository
    reply = console.request(cid, APP, "GET", "configurations")
    root = ET.fromstring(reply.body)
    pids = [c.get("pid") for c in root.findall(f"{ESF}configuration")]
    assert pids[0] == SERVICE_PID
    assert "io.moorings.remote.CloudConnection" not in pids  # not configurable remotely
    empty = console.request(cid, APP, "GET", "configurations/nothing-here")
    assert empty.code == 200
    assert ET.fromstring(empty.body).findall(f"{ESF}configuration") == []
    assert console.request(cid, APP, "GET", "snapshots/abc").code == 400
    assert console.request(cid, APP, "GET", "nothing").code == 404
    assert console.request(cid, APP, "DEL", "configurations").code == 500

    first = console.request(cid, APP, "EXEC", "snapshot")
    assert first.code == 200
    (first_id,) = re.findall(r"<esf:snapshotIds>(\d+)</esf:snapshotIds>", first.text)
    name = "moorings-test-conf-later"
    core.orchestrator.create_instance(name, registry_values(test_env)).result(120)
    second = console.request(cid, APP, "EXEC", "snapshot")
    (second_id,) = re.findall(r"<esf:snapshotIds>(\d+)</esf:snapshotIds>", second.text)
    assert int(second_id) > int(first_id)
    listing = console.request(cid, APP, "GET", "snapshots")
    assert re.findall(r"<esf:snapshotIds>(\d+)</esf:snapshotIds>", listing.text)[-2:] == [
        first_id, second_id]
    snap = console.request(cid, APP, "GET", f"snapshots/{second_id}")
    assert name in snap.text
    assert test_env.registry_password not in snap.text

    assert console.request(cid, APP, "EXEC", f"rollback/{first_id}").code == 200
    _wait_for(lambda: not repo.has_instance(name))

"""On the real engine: what Moorings now refuses at Apply is what the engine refuses or changes,
and what the engine takes still passes."""

from __future__ import annotations

import uuid
from typing import Any

import docker
import docker.errors
import pytest
from docker.types import LogConfig
from harness import TEST_PREFIX, TestEnv
from test_field_values import ACCEPTED_OPTIONS, LOGGER_PARAMETERS, REFUSED_OPTIONS

from app.config.model import validate
from app.engine.spec import create_container, spec_from_values
from app.errors import ConfigError
from app.fields.logger import parse_logger_options, parse_logger_type
from app.metatype import INSTANCE_FACTORY_PID, load_catalog

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]

INSTANCE = load_catalog().by_pid(INSTANCE_FACTORY_PID)


def unique() -> str:
    return f"{TEST_PREFIX}-values-{uuid.uuid4().hex[:8]}"


def engine_runs(api: docker.APIClient, image: str, **create: Any) -> str | None:
    """Create and start a container as given; None if the engine took it, else its refusal."""
    host = api.create_host_config(**create.pop("host", {}))
    try:
        cid = api.create_container(image, name=unique(), host_config=host,
                                   entrypoint=["true"], **create)["Id"]
    except docker.errors.APIError as exc:
        return str(exc.explanation)
    try:
        api.start(cid)
    except docker.errors.APIError as exc:
        return str(exc.explanation)
    finally:
        api.remove_container(cid, force=True)
    return None


@pytest.mark.parametrize(("driver", "options"), [
    *[(driver, options) for driver, options, _, _ in REFUSED_OPTIONS],
    *ACCEPTED_OPTIONS,
])
def test_logger_parameters_refused_exactly_when_the_engine_refuses(
    docker_client: docker.DockerClient, test_env: TestEnv, driver: str, options: str
) -> None:
    log_config = LogConfig(type=parse_logger_type(driver),
                           config=parse_logger_options(options))
    refusal = engine_runs(docker_client.api, test_env.image, host={"log_config": log_config})
    errors = validate(INSTANCE, {"container.loggingType": driver,
                                 LOGGER_PARAMETERS: options}, "web").errors
    if refusal is None:
        assert errors == [], f"the engine takes {options!r} for {driver}"
    else:
        assert [e.field_id for e in errors] == [LOGGER_PARAMETERS], (
            f"the engine refuses {options!r} for {driver} ({refusal}) but Moorings took it")


@pytest.mark.parametrize(("port", "refused"), [
    ("99999", True), ("65536", True), ("123456", True), ("0", True), ("00000", True),
    ("65535", False), ("1", False), ("00080", False),
])
def test_registry_port_refused_exactly_when_the_engine_cannot_reach_it(
    docker_client: docker.DockerClient, port: str, refused: bool
) -> None:
    image = f"127.0.0.1:{port}/{TEST_PREFIX}/nothing"
    with pytest.raises(docker.errors.APIError) as info:
        docker_client.api.pull(image, tag="1")
    said = str(info.value.explanation)
    errors = validate(INSTANCE, {"container.image": image}, "web").errors
    assert [e.field_id for e in errors] == (["container.image"] if refused else [])
    if port.strip("0") == "":
        # Port 0 parses, but nothing ever listens there: the engine can never pull from it.
        assert "connection refused" in said
    else:
        assert ("invalid port" in said) is refused, said


def _entrypoint(api: docker.APIClient, image: str, args: list[str]) -> tuple[Any, bytes]:
    cid = api.create_container(image, name=unique(), entrypoint=args)["Id"]
    try:
        api.start(cid)
        api.wait(cid, timeout=30)
        return api.inspect_container(cid)["Config"]["Entrypoint"], api.logs(cid)
    finally:
        api.remove_container(cid, force=True)


def test_entrypoint_with_nul_or_surrogate_cannot_reach_the_container(
    docker_client: docker.DockerClient, test_env: TestEnv
) -> None:
    api = docker_client.api
    # The engine stores the NUL, but the kernel cannot exec it: the program never runs.
    _, logs = _entrypoint(api, test_env.image, ["echo", "a\0b"])
    assert b"invalid argument" in logs
    # An unpaired surrogate does not survive the trip: the container gets another argument.
    stored, logs = _entrypoint(api, test_env.image, ["echo", "x\ud800y"])
    assert stored == ["echo", "x\ufffdy"]
    for text in ("echo, a\0b", "echo, x\ud800y"):
        with pytest.raises(ConfigError) as info:
            spec_from_values(INSTANCE, "web", {"container.entrypoint": text,
                                               "container.image": test_env.image_repo,
                                               "container.image.tag": test_env.image_tag})
        assert [e.field_name for e in info.value.errors] == ["Entrypoint Override"]


def test_entrypoint_the_engine_passes_runs_as_written(
    docker_client: docker.DockerClient, test_env: TestEnv
) -> None:
    api = docker_client.api
    spec = spec_from_values(INSTANCE, unique(), {
        "container.image": test_env.image_repo, "container.image.tag": test_env.image_tag,
        "container.entrypoint": "echo, h\u00e9llo, a\x01b", "container.ports.internal": "",
        "container.ports.external": ""})
    cid = create_container(api, spec, "moorings-test-store")
    api.start(cid)
    api.wait(cid, timeout=30)
    assert api.inspect_container(cid)["Config"]["Entrypoint"] == ["echo", "h\u00e9llo", "a\x01b"]
    assert api.logs(cid) == "h\u00e9llo a\x01b\n".encode()


@pytest.mark.parametrize(("field_id", "value", "create", "read_back"), [
    ("container.env", "B=x\ud800y", {"environment": ["B=x\ud800y"]},
     lambda info: "B=x\ufffdy" in info["Config"]["Env"]),
    ("container.volume", "/tmp/x\ud800y:/data", {"host": {"binds": ["/tmp/x\ud800y:/data:rw"]}},
     lambda info: info["HostConfig"]["Binds"] == ["/tmp/x\ufffdy:/data:rw"]),
    ("container.device", "/dev/null:/dev/x\ud800y",
     {"host": {"devices": ["/dev/null:/dev/x\ud800y:rwm"]}},
     lambda info: info["HostConfig"]["Devices"][0]["PathInContainer"] == "/dev/x\ufffdy"),
])
def test_a_surrogate_is_changed_by_the_engine_so_it_is_refused(
    docker_client: docker.DockerClient, test_env: TestEnv, field_id: str, value: str,
    create: dict[str, Any], read_back: Any
) -> None:
    api = docker_client.api
    host = api.create_host_config(**create.pop("host", {}))
    cid = api.create_container(test_env.image, name=unique(), host_config=host, **create)["Id"]
    try:
        assert read_back(api.inspect_container(cid))
    finally:
        api.remove_container(cid, force=True)
    errors = validate(INSTANCE, {field_id: value}, "web").errors
    assert [e.field_id for e in errors] == [field_id]
    assert "unpaired surrogate" in errors[0].message

"""Every field of a spec, created on the real engine and read back with inspect."""

from __future__ import annotations

import random
import socket
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from harness import TEST_PREFIX, TestEnv

from app.config.model import Scalar
from app.engine.labels import LABEL_DIGEST, LABEL_INSTANCE, LABEL_MANAGED, LABEL_STORE
from app.engine.spec import ContainerSpec, create_container, spec_from_values
from app.metatype import INSTANCE_FACTORY_PID, load_catalog

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("cleanup")]

COMPONENT = load_catalog().by_pid(INSTANCE_FACTORY_PID)
STORE = "moorings-test-store"


def by_role(roles: Mapping[str, Scalar]) -> dict[str, Scalar]:
    """Values keyed by AD id, written by role."""
    out: dict[str, Scalar] = {}
    for role, value in roles.items():
        desc = COMPONENT.find_by_role(role)
        assert desc is not None, role
        out[desc.id] = value
    return out


def free_port_block(size: int) -> int:
    """The first of ``size`` consecutive loopback ports free for both TCP and UDP right now."""
    for _ in range(200):
        base = random.randint(20_000, 60_000)
        sockets: list[socket.socket] = []
        try:
            for port in range(base, base + size):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    s = socket.socket(socket.AF_INET, kind)
                    sockets.append(s)
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        else:
            return base
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no block of free ports on 127.0.0.1")


@pytest.fixture
def api(docker_client: docker.DockerClient) -> docker.APIClient:
    return docker_client.api


@pytest.fixture
def name() -> str:
    return f"{TEST_PREFIX}-spec-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def volume_name() -> str:
    # Named moorings-test*: the cleanup fixture removes it with the containers.
    return f"{TEST_PREFIX}-spec-vol-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    ro_dir, rw_dir = tmp_path / "ro", tmp_path / "rw"
    ro_dir.mkdir()
    rw_dir.mkdir()
    (ro_dir / "hello").write_text("hi\n", encoding="utf-8")
    return ro_dir, rw_dir


def full_roles(
    test_env: TestEnv, dirs: tuple[Path, Path], volume_name: str, base: int
) -> dict[str, Scalar]:
    """Every field set (privileged and GPUs off: this machine cannot start them)."""
    ro_dir, rw_dir = dirs
    return {
        "enabled": True,
        "image": test_env.image_repo,
        "image-tag": test_env.image_tag,
        "pull-always": False,
        "registry": test_env.registry,
        "registry-username": "someone",
        "registry-password": "not-a-real-password",
        "pull-attempts": 2,
        "pull-interval-ms": 100,
        "pull-timeout-s": 10,
        # One container port on two host ports, a udp range, and a port without protocol.
        "ports-internal": "80:tcp, 5000-5001:udp, 80, 90",
        "ports-external": (
            f"127.0.0.1:{base}, 127.0.0.1:{base + 1}-{base + 2}, 127.0.0.1:{base + 3}, "
            f"127.0.0.1:{base + 4}:tcp"
        ),
        "privileged": False,
        "env": "GREETING=hello\\, world, EMPTY=, WITH_EQ=a=b",
        "entrypoint": "sleep,30",
        "memory": "64m",
        "cpus": 0.5,
        "gpus": "",
        "runtime": "runc",
        "volumes": f"{ro_dir}:/ro:ro, {rw_dir}:/rw, {ro_dir}:/again:rw, {volume_name}:/named",
        "devices": "/dev/null:/dev/xnull:rw, /dev/zero",
        "network-mode": "bridge",
        "logger-type": "JSON_FILE",
        "logger-options": "max-size=1m, max-file=2",
        "restart-on-failure": True,
    }


def create(api: docker.APIClient, name: str, roles: Mapping[str, Scalar]) -> tuple[
    ContainerSpec, dict[str, Any]
]:
    spec = spec_from_values(COMPONENT, name, by_role(roles))
    container_id = create_container(api, spec, STORE)
    info: dict[str, Any] = api.inspect_container(container_id)
    assert info["Id"] == container_id
    assert info["Name"] == f"/{name}"
    assert info["State"]["Status"] == "created"
    return spec, info


def assert_full_config(
    info: Mapping[str, Any],
    spec: ContainerSpec,
    name: str,
    dirs: tuple[Path, Path],
    volume_name: str,
    base: int,
    image_labels: Mapping[str, str],
) -> None:
    config, host = info["Config"], info["HostConfig"]
    ro_dir, rw_dir = dirs
    assert config["Image"] == spec.reference
    assert set(config["ExposedPorts"]) == {"80/tcp", "5000/udp", "5001/udp", "90/tcp"}
    assert host["PortBindings"] == {
        "80/tcp": [
            {"HostIp": "127.0.0.1", "HostPort": str(base)},
            {"HostIp": "127.0.0.1", "HostPort": str(base + 3)},
        ],
        "5000/udp": [{"HostIp": "127.0.0.1", "HostPort": str(base + 1)}],
        "5001/udp": [{"HostIp": "127.0.0.1", "HostPort": str(base + 2)}],
        "90/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(base + 4)}],
    }
    env = config["Env"]
    for pair in ("GREETING=hello, world", "EMPTY=", "WITH_EQ=a=b"):
        assert pair in env
    # Only the configured variables and the image's own PATH: no proxy variables added.
    assert sorted(env) == sorted(["GREETING=hello, world", "EMPTY=", "WITH_EQ=a=b", "PATH=/bin"])
    assert config["Entrypoint"] == ["sleep", "30"]
    assert host["Binds"] == [
        f"{ro_dir}:/ro:ro",
        f"{rw_dir}:/rw:rw",
        f"{ro_dir}:/again:rw",
        f"{volume_name}:/named:rw",
    ]
    assert host["Devices"] == [
        {"PathOnHost": "/dev/null", "PathInContainer": "/dev/xnull", "CgroupPermissions": "rw"},
        {"PathOnHost": "/dev/zero", "PathInContainer": "/dev/zero", "CgroupPermissions": "rwm"},
    ]
    assert host["Privileged"] is False
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "2"}}
    assert host["Memory"] == 64 * 1024 * 1024
    assert host["CpuPeriod"] == 100_000
    assert host["CpuQuota"] == 50_000
    assert host["NanoCpus"] == 0
    assert not host.get("DeviceRequests")
    assert host["Runtime"] == "runc"
    assert host["NetworkMode"] == "bridge"
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 0}
    # Nothing the configuration does not say: the image's own init behaviour is kept.
    assert host.get("Init") in (None, False)
    # Ours, plus the image's own (the test image carries moorings.test=1).
    assert config["Labels"] == {
        **image_labels,
        LABEL_MANAGED: "true",
        LABEL_INSTANCE: name,
        LABEL_DIGEST: spec.digest,
        LABEL_STORE: STORE,
    }


def test_full_configuration_is_created_and_runs(
    api: docker.APIClient,
    test_env: TestEnv,
    name: str,
    dirs: tuple[Path, Path],
    volume_name: str,
) -> None:
    base = free_port_block(5)
    spec, info = create(api, name, full_roles(test_env, dirs, volume_name, base))
    image_labels = api.inspect_image(spec.reference)["Config"]["Labels"] or {}
    assert_full_config(info, spec, name, dirs, volume_name, base, image_labels)

    # The engine accepts the whole combination: it starts, with the mounts and devices in place.
    api.start(info["Id"])
    try:
        state = api.inspect_container(info["Id"])["State"]
        assert state["Running"] is True, state
        mounts = {m["Destination"]: m for m in api.inspect_container(info["Id"])["Mounts"]}
        assert mounts["/ro"]["RW"] is False
        assert mounts["/rw"]["RW"] is True
        assert mounts["/again"]["RW"] is True
        assert mounts["/named"]["Type"] == "volume"
        assert mounts["/named"]["Name"] == volume_name
        script = (
            "cat /ro/hello; ls /dev/xnull; "
            "(echo x > /ro/x) 2>/dev/null && echo ro-writable || echo ro-refused; "
            "echo y > /rw/y && echo rw-ok"
        )
        run = api.exec_create(info["Id"], ["sh", "-c", script])
        out = api.exec_start(run["Id"]).decode()
        assert out.split() == ["hi", "/dev/xnull", "ro-refused", "rw-ok"], out
        assert (dirs[1] / "y").read_text(encoding="utf-8") == "y\n"
        assert not (dirs[0] / "x").exists()
    finally:
        api.stop(info["Id"], timeout=1)


def test_privileged_is_requested_and_the_refused_start_is_an_api_error(
    api: docker.APIClient, test_env: TestEnv, name: str
) -> None:
    roles: dict[str, Scalar] = {
        "image": test_env.image_repo,
        "image-tag": test_env.image_tag,
        "ports-internal": "",
        "ports-external": "",
        "privileged": True,
        "entrypoint": "sleep,30",
    }
    spec, info = create(api, name, roles)
    assert spec.privileged is True
    assert info["HostConfig"]["Privileged"] is True
    # This machine's kernel cannot give every capability: the engine creates, then refuses.
    with pytest.raises(docker.errors.APIError) as refused:
        api.start(info["Id"])
    explanation = str(refused.value.explanation or refused.value).lower()
    assert "caps" in explanation or "permi" in explanation, explanation
    assert api.inspect_container(info["Id"])["State"]["Running"] is False
    api.remove_container(info["Id"], force=True)


def test_gpus_are_requested_from_the_nvidia_driver(
    api: docker.APIClient, test_env: TestEnv, name: str
) -> None:
    roles: dict[str, Scalar] = {
        "image": test_env.image_repo,
        "image-tag": test_env.image_tag,
        "ports-internal": "",
        "ports-external": "",
        "gpus": "all",
    }
    _, info = create(api, name, roles)  # not started: there is no GPU here
    requests = info["HostConfig"]["DeviceRequests"]
    assert len(requests) == 1
    assert requests[0]["Driver"] == "nvidia"
    assert requests[0]["Count"] == -1
    assert requests[0]["Capabilities"] == [["gpu"]]


def test_no_logger_and_no_network(api: docker.APIClient, test_env: TestEnv, name: str) -> None:
    roles: dict[str, Scalar] = {
        "image": test_env.image_repo,
        "image-tag": test_env.image_tag,
        "ports-internal": "",
        "ports-external": "",
        "logger-type": "NONE",
        "logger-options": "",
        "network-mode": "none",
        "entrypoint": "sleep,30",
    }
    _, info = create(api, name, roles)
    host = info["HostConfig"]
    assert host["LogConfig"] == {"Type": "none", "Config": {}}
    assert host["NetworkMode"] == "none"
    assert host["RestartPolicy"]["Name"] in ("", "no")
    assert host["Memory"] == 0
    assert host["CpuQuota"] == 0
    assert not host["Binds"]
    assert not host["Devices"]
    api.start(info["Id"])
    try:
        networks = api.inspect_container(info["Id"])["NetworkSettings"]["Networks"]
        assert list(networks) == ["none"]
    finally:
        api.stop(info["Id"], timeout=1)


def test_defaults_send_only_the_log_config_and_the_default_port(
    api: docker.APIClient, test_env: TestEnv, name: str
) -> None:
    roles: dict[str, Scalar] = {
        "image": test_env.image_repo,
        "image-tag": test_env.image_tag,
        "ports-external": f"127.0.0.1:{free_port_block(1)}",
    }
    spec, info = create(api, name, roles)
    config, host = info["Config"], info["HostConfig"]
    assert config["Entrypoint"] is None
    assert config["Env"] == ["PATH=/bin"]  # the image's own
    assert set(config["ExposedPorts"]) == {"80/tcp"}
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "10m"}}
    assert host["Privileged"] is False
    assert host["NetworkMode"] == "default"
    assert spec.create_kwargs.keys() == {"image", "ports"}

"""The instance's values as the engine gets them: mapping, digest, credentials, refusals."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pytest

from app.config.model import Scalar
from app.engine.labels import LABEL_DIGEST, LABEL_INSTANCE, LABEL_MANAGED, LABEL_STORE
from app.engine.spec import RegistryCredentials, container_labels, spec_from_values
from app.errors import ConfigError
from app.metatype import INSTANCE_FACTORY_PID, ComponentDescriptor, load_catalog

COMPONENT = load_catalog().by_pid(INSTANCE_FACTORY_PID)
SECRET = "s3cret-Pa55"


def by_role(roles: Mapping[str, Scalar], component: ComponentDescriptor = COMPONENT) -> dict[
    str, Scalar
]:
    """Values keyed by AD id, written by role, so the tests need no AD id either."""
    out: dict[str, Scalar] = {}
    for role, value in roles.items():
        desc = component.find_by_role(role)
        assert desc is not None, role
        out[desc.id] = value
    return out


FULL: dict[str, Scalar] = {
    "enabled": True,
    "image": "registry.example.com:5000/team/app",
    "image-tag": "1.25",
    "pull-always": False,
    "registry": "registry.example.com:5000",
    "registry-username": "tech",
    "registry-password": SECRET,
    "pull-attempts": 3,
    "pull-interval-ms": 1000,
    "pull-timeout-s": 60,
    "ports-internal": "80:tcp, 5000-5001:udp, 80",
    "ports-external": "127.0.0.1:8080, 6000-6001, 127.0.0.1:8081",
    "privileged": True,
    "env": "A=1, B=x\\,y, C=",
    "entrypoint": "sh,-c,echo hi\\, there",
    "memory": "64m",
    "cpus": 0.29,
    "gpus": "all",
    "runtime": "runc",
    "volumes": "/srv/a:/a:ro, /srv/a:/b, data:/c:rw\\,nocopy",
    "devices": "/dev/null:/dev/xnull:rw, /dev/zero",
    "network-mode": "bridge",
    "logger-type": "JSON_FILE",
    "logger-options": "max-size=1m, max-file=2",
    "restart-on-failure": True,
}


def full(**changes: Scalar) -> dict[str, Scalar]:
    roles = dict(FULL)
    roles.update({key.replace("_", "-"): value for key, value in changes.items()})
    return by_role(roles)


def test_every_field_reaches_the_engine_arguments() -> None:
    spec = spec_from_values(COMPONENT, "web", full())
    assert spec.name == "web"
    assert spec.image == "registry.example.com:5000/team/app"
    assert spec.tag == "1.25"
    assert spec.reference == "registry.example.com:5000/team/app:1.25"
    assert spec.privileged is True
    assert spec.restart_on_failure is True
    assert (spec.pull.attempts, spec.pull.interval_ms, spec.pull.timeout_s) == (3, 1000, 60)
    assert spec.pull.always is False

    create = spec.create_kwargs
    assert create["image"] == spec.reference
    assert create["ports"] == [(80, "tcp"), (5000, "udp"), (5001, "udp")]
    assert create["environment"] == ["A=1", "B=x,y", "C="]
    assert create["entrypoint"] == ["sh", "-c", "echo hi, there"]
    assert not {"name", "labels", "host_config", "command"} & set(create)

    host = spec.host_config_kwargs
    assert host["port_bindings"] == {
        "80/tcp": [("127.0.0.1", 8080), ("127.0.0.1", 8081)],
        "5000/udp": [6000],
        "5001/udp": [6001],
    }
    # The list form: the same source mounted twice survives, and every mode is kept.
    assert host["binds"] == ["/srv/a:/a:ro", "/srv/a:/b:rw", "data:/c:rw,nocopy"]
    assert host["devices"] == ["/dev/null:/dev/xnull:rw", "/dev/zero:/dev/zero:rwm"]
    assert host["privileged"] is True
    assert host["log_config"] == {
        "Type": "json-file",
        "Config": {"max-size": "1m", "max-file": "2"},
    }
    assert host["mem_limit"] == 64 * 1024 * 1024
    assert host["cpu_period"] == 100_000
    assert host["cpu_quota"] == 29_000  # not 28999: no floating-point truncation
    assert host["device_requests"] == [
        {"Driver": "nvidia", "Count": -1, "DeviceIDs": [], "Capabilities": [["gpu"]],
         "Options": {}}
    ]
    assert host["runtime"] == "runc"
    assert host["network_mode"] == "bridge"
    assert host["restart_policy"] == {"Name": "on-failure", "MaximumRetryCount": 0}
    assert "init" not in host


def test_defaults_add_nothing_the_configuration_does_not_say() -> None:
    spec = spec_from_values(COMPONENT, "web", {})
    assert spec.reference == "nginx:latest"
    assert dict(spec.create_kwargs) == {"image": "nginx:latest", "ports": [(80, "tcp")]}
    assert dict(spec.host_config_kwargs) == {
        "port_bindings": {"80/tcp": [8080]},
        # A log config is always sent, as Kura does.
        "log_config": {"Type": "json-file", "Config": {"max-size": "10m"}},
    }
    assert spec.credentials is None
    assert spec.privileged is False
    assert spec.restart_on_failure is False
    assert (spec.pull.attempts, spec.pull.interval_ms, spec.pull.timeout_s) == (5, 30000, 500)


def test_a_digest_is_pinned_with_at() -> None:
    digest = "sha256:" + "ab" * 32
    spec = spec_from_values(COMPONENT, "web", by_role({"image": "nginx", "image-tag": digest}))
    assert spec.tag == digest
    assert spec.reference == f"nginx@{digest}"
    assert spec.create_kwargs["image"] == f"nginx@{digest}"


def test_cpus_and_gpus_counts() -> None:
    spec = spec_from_values(COMPONENT, "web", full(cpus="1.5", gpus="2"))
    assert spec.host_config_kwargs["cpu_quota"] == 150_000
    assert spec.host_config_kwargs["device_requests"][0]["Count"] == 2


def test_digest_is_stable_across_dict_order() -> None:
    values = full()
    reversed_values = dict(reversed(list(values.items())))
    assert list(values) != list(reversed_values)
    first = spec_from_values(COMPONENT, "web", values)
    second = spec_from_values(COMPONENT, "web", reversed_values)
    assert first.digest == second.digest
    assert len(first.digest) == 64
    int(first.digest, 16)


def test_digest_ignores_the_order_of_orderless_lists() -> None:
    base = spec_from_values(COMPONENT, "web", full())
    reordered = spec_from_values(
        COMPONENT,
        "web",
        full(
            env="C=, A=1, B=x\\,y",
            volumes="data:/c:rw\\,nocopy, /srv/a:/b, /srv/a:/a:ro",
            devices="/dev/zero, /dev/null:/dev/xnull:rw",
            ports_internal="80, 5000-5001:udp, 80:tcp",
            ports_external="127.0.0.1:8081, 6000-6001, 127.0.0.1:8080",
        ),
    )
    assert reordered.host_config_kwargs["binds"][0] == "data:/c:rw,nocopy"
    assert reordered.digest == base.digest


@pytest.mark.parametrize(
    ("role", "value"),
    [
        ("pull-attempts", 0),
        ("pull-interval-ms", 5),
        ("pull-timeout-s", 999),
        ("registry-password", "another"),
        ("registry-username", "someone"),
        ("registry", "127.0.0.1:5000"),
        ("pull-always", True),
        ("enabled", False),
    ],
)
def test_pull_settings_and_credentials_do_not_change_the_digest(role: str, value: Scalar) -> None:
    base = spec_from_values(COMPONENT, "web", full())
    changed = spec_from_values(COMPONENT, "web", full(**{role: value}))
    assert changed != base or role == "enabled"
    assert changed.digest == base.digest


@pytest.mark.parametrize(
    ("role", "value"),
    [
        ("image", "registry.example.com:5000/team/other"),
        ("image-tag", "1.26"),
        ("ports-internal", "80:tcp, 5000-5001:udp, 81"),
        ("ports-external", "127.0.0.1:8080, 6000-6001, 127.0.0.2:8081"),
        ("privileged", False),
        ("env", "A=2, B=x\\,y, C="),
        ("entrypoint", "sh,-c,echo hi"),
        ("memory", "65m"),
        ("cpus", 0.3),
        ("gpus", "1"),
        ("runtime", "nvidia"),
        ("volumes", "/srv/a:/a:rw, /srv/a:/b, data:/c:rw\\,nocopy"),
        ("devices", "/dev/null:/dev/xnull:r, /dev/zero"),
        ("network-mode", "none"),
        ("logger-type", "LOCAL"),
        ("logger-options", "max-size=2m, max-file=2"),
        ("restart-on-failure", False),
    ],
)
def test_any_container_field_changes_the_digest(role: str, value: Scalar) -> None:
    base = spec_from_values(COMPONENT, "web", full())
    changed = spec_from_values(COMPONENT, "web", full(**{role: value}))
    assert changed.digest != base.digest


def test_credentials_only_with_a_username() -> None:
    assert spec_from_values(COMPONENT, "web", full(registry_username="")).credentials is None
    assert spec_from_values(COMPONENT, "web", full(registry_username="  ")).credentials is None
    creds = spec_from_values(COMPONENT, "web", full()).credentials
    assert creds == RegistryCredentials("registry.example.com:5000", "tech", SECRET)
    assert creds.auth_config() == {
        "username": "tech",
        "password": SECRET,
        "serveraddress": "registry.example.com:5000",
    }
    hub = spec_from_values(COMPONENT, "web", full(registry="")).credentials
    assert hub is not None
    assert hub.registry is None
    assert hub.auth_config() == {"username": "tech", "password": SECRET}


def test_the_password_is_never_shown() -> None:
    spec = spec_from_values(COMPONENT, "web", full())
    assert spec.credentials is not None
    for text in (repr(spec.credentials), str(spec.credentials), repr(spec), str(spec)):
        assert SECRET not in text
    assert "tech" in repr(spec.credentials)


def test_labels() -> None:
    spec = spec_from_values(COMPONENT, "web", full())
    assert container_labels(spec, "store-1") == {
        LABEL_MANAGED: "true",
        LABEL_INSTANCE: "web",
        LABEL_DIGEST: spec.digest,
        LABEL_STORE: "store-1",
    }


def test_every_invalid_value_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as refused:
        spec_from_values(
            COMPONENT,
            "bad name!",
            full(memory="1k", image="Nginx", env="novalue", cpus="x"),
        )
    fields = {e.field_id for e in refused.value.errors}
    by_id = {role: COMPONENT.find_by_role(role) for role in ("memory", "image", "env", "cpus")}
    assert {"name"} | {d.id for d in by_id.values() if d} <= fields


def test_ports_cannot_be_published_in_host_network_mode() -> None:
    with pytest.raises(ConfigError) as refused:
        spec_from_values(COMPONENT, "web", full(network_mode="host"))
    external = COMPONENT.find_by_role("ports-external")
    assert external is not None
    assert [e.field_id for e in refused.value.errors] == [external.id]
    assert "host" in refused.value.errors[0].message
    spec = spec_from_values(
        COMPONENT, "web", full(network_mode="host", ports_internal="", ports_external="")
    )
    assert spec.host_config_kwargs["network_mode"] == "host"
    assert "port_bindings" not in spec.host_config_kwargs


def test_a_descriptor_without_some_roles_still_works() -> None:
    dropped = {"gpus", "runtime", "cpus", "ports-external", "logger-type", "pull-attempts"}
    reduced = dataclasses.replace(
        COMPONENT, fields=tuple(f for f in COMPONENT.fields if f.role not in dropped)
    )
    roles = {k: v for k, v in FULL.items() if k not in dropped}
    spec = spec_from_values(reduced, "web", by_role(roles, reduced))
    host = spec.host_config_kwargs
    assert not {"device_requests", "runtime", "cpu_quota", "cpu_period", "log_config"} & set(host)
    # Without External Ports the internal ones are declared but published nowhere.
    assert spec.create_kwargs["ports"] == [(80, "tcp"), (5000, "udp"), (5001, "udp")]
    assert "port_bindings" not in host
    assert spec.pull.attempts == 5  # Kura's default
    assert host["mem_limit"] == 64 * 1024 * 1024


def test_a_descriptor_without_an_image_field_is_refused() -> None:
    reduced = dataclasses.replace(
        COMPONENT, fields=tuple(f for f in COMPONENT.fields if f.role != "image")
    )
    with pytest.raises(ConfigError, match="no image field"):
        spec_from_values(reduced, "web", {})

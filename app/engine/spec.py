"""A container instance's values turned into exactly what the engine gets at create."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

import docker
from docker.types import DeviceRequest, LogConfig

from app.config.model import Scalar, validate
from app.engine.labels import LABEL_DIGEST, LABEL_INSTANCE, LABEL_MANAGED, LABEL_STORE
from app.errors import ConfigError, FieldError, SyntaxProblem
from app.fields import devices as device_fields
from app.fields import env as env_fields
from app.fields import limits, names, ports, volumes
from app.fields import logger as logger_fields
from app.fields.lists import split_list
from app.metatype import ComponentDescriptor, FieldDescriptor
from app.signing.verify import SigningPolicy

# Docker's own default tag, used when the descriptor has no tag field at all.
DEFAULT_TAG = "latest"
# Kura's defaults, used for a pull setting whose field the descriptor lacks.
DEFAULT_PULL_ATTEMPTS = 5
DEFAULT_PULL_INTERVAL_MS = 30_000
DEFAULT_PULL_TIMEOUT_S = 500
# Kura's CPU limit is a CFS quota over a 100 ms period, not NanoCpus: keep the same engine
# fields so that a container inspected on either side looks the same.
CPU_PERIOD_US = 100_000

_T = TypeVar("_T")


@dataclass(frozen=True)
class RegistryCredentials:
    """Who to be at the registry when pulling; the password never appears in repr or str."""

    registry: str | None
    username: str
    password: str = field(repr=False)

    def auth_config(self) -> dict[str, str]:
        """The ``auth_config`` argument of docker-py's pull."""
        config = {"username": self.username, "password": self.password}
        if self.registry:
            config["serveraddress"] = self.registry
        return config


@dataclass(frozen=True)
class PullPolicy:
    """How the image is fetched: Kura's attempts (0 = unlimited), interval and timeout."""

    attempts: int
    interval_ms: int
    timeout_s: int
    always: bool


@dataclass(frozen=True)
class ContainerSpec:
    """Everything needed to pull the image and create the container of one instance.

    ``create_kwargs`` goes to ``APIClient.create_container`` and ``host_config_kwargs`` to
    ``APIClient.create_host_config``; :func:`create_container` adds the name and labels.
    ``digest`` covers only what the engine gets, so a change of pull settings or password
    never recreates a container (Kura recreates on any change).
    """

    name: str
    image: str
    tag: str
    reference: str
    credentials: RegistryCredentials | None
    pull: PullPolicy
    restart_on_failure: bool
    privileged: bool
    # Read-only views, hence unhashable: the digest stands for them in the hash.
    create_kwargs: Mapping[str, Any] = field(hash=False)
    host_config_kwargs: Mapping[str, Any] = field(hash=False)
    digest: str
    # Set when the instance has a trust anchor: the image is verified, then run by digest.
    signing: SigningPolicy | None = None


class _Reader:
    """The validated values, read by role, with every parse problem collected."""

    def __init__(
        self, component: ComponentDescriptor, values: Mapping[str, Scalar], name: str
    ) -> None:
        self.component = component
        self.values = values
        self.name = name
        self.errors: list[FieldError] = []

    def field(self, role: str) -> FieldDescriptor | None:
        return self.component.find_by_role(role)

    def raw(self, role: str) -> Scalar | None:
        """The typed value of the role's field; None when the descriptor has no such field."""
        desc = self.field(role)
        if desc is None:
            return None
        return self.values.get(desc.id, "")

    def text(self, role: str) -> str | None:
        value = self.raw(role)
        return None if value is None else str(value)

    def flag(self, role: str) -> bool:
        return self.raw(role) is True

    def number(self, role: str, default: int) -> int:
        value = self.raw(role)
        # An optional number left empty arrives as "": it means the default, like an absent field.
        if isinstance(value, bool) or not isinstance(value, int):
            return default
        return value

    def parse(self, role: str, parser: Callable[[str], _T]) -> _T | None:
        """Parse the role's value; None when the field is absent or the value is refused."""
        text = self.text(role)
        if text is None:
            return None
        try:
            return parser(text)
        except SyntaxProblem as exc:
            self.problem(role, exc)
            return None

    def problem(self, role: str, exc: SyntaxProblem) -> None:
        desc = self.field(role)
        field_id, field_name = (desc.id, desc.name) if desc else (role, role)
        self.errors.append(FieldError(field_id, field_name, exc.message, exc.item, self.name))


def spec_from_values(
    component: ComponentDescriptor, name: str, values: Mapping[str, Scalar], *,
    validated: bool = False,
) -> ContainerSpec:
    """Validate one instance's values and turn them into a :class:`ContainerSpec`.

    Fields are found by their ``moorings:role``; a role the descriptor lacks is not applied.
    ``validated`` says ``values`` are typed values that validation has just accepted (the
    repository's, at the commit that stored them): they are not validated again. Raises
    ConfigError listing every problem found.
    """
    if validated:
        typed: Mapping[str, Scalar] = values
        errors: list[FieldError] = []
    else:
        result = validate(component, values, name)
        typed, errors = result.values, list(result.errors)
    if not any(e.field_id == "name" for e in errors):
        try:
            name = names.parse_container_name(name)
        except SyntaxProblem as exc:
            errors.append(FieldError("name", "Name", exc.message, exc.item, name))
    if errors:
        raise ConfigError(errors)

    read = _Reader(component, typed, name)
    image = read.parse("image", names.parse_image_name)
    if read.field("image") is None:
        read.problem(
            "image",
            SyntaxProblem(
                "the field descriptors have no image field, so there is nothing to run; expected "
                'an AD with moorings:role="image"'
            ),
        )
    tag = read.parse("image-tag", names.parse_image_tag)
    if read.field("image-tag") is None:
        tag = DEFAULT_TAG

    create: dict[str, Any] = {}
    host: dict[str, Any] = {}
    _apply_ports(read, create, host)
    _apply_process(read, create)
    _apply_host(read, host)
    credentials = _credentials(read)

    if read.errors or image is None or tag is None:
        raise ConfigError(read.errors)
    anchor = (read.text("trust-anchor") or "").strip()
    signing = SigningPolicy(anchor, read.flag("verify-tlog")) if anchor else None
    reference = names.image_reference(image, tag)
    create = {"image": reference, **create}
    return ContainerSpec(
        name=name,
        image=image,
        tag=tag,
        reference=reference,
        credentials=credentials,
        pull=PullPolicy(
            attempts=read.number("pull-attempts", DEFAULT_PULL_ATTEMPTS),
            interval_ms=read.number("pull-interval-ms", DEFAULT_PULL_INTERVAL_MS),
            timeout_s=read.number("pull-timeout-s", DEFAULT_PULL_TIMEOUT_S),
            always=read.flag("pull-always"),
        ),
        restart_on_failure=read.flag("restart-on-failure"),
        privileged=read.flag("privileged"),
        create_kwargs=MappingProxyType(create),
        host_config_kwargs=MappingProxyType(host),
        digest=config_digest(reference, create, host, signing),
        signing=signing,
    )


def _credentials(read: _Reader) -> RegistryCredentials | None:
    username = (read.text("registry-username") or "").strip()
    if not username:
        # Kura attaches empty credentials to every pull; an anonymous pull is what it means.
        return None
    registry = read.parse("registry", names.parse_registry_url)
    return RegistryCredentials(registry, username, read.text("registry-password") or "")


def _apply_ports(read: _Reader, create: dict[str, Any], host: dict[str, Any]) -> None:
    internal = read.text("ports-internal")
    external = read.text("ports-external")
    exposed: list[tuple[int, str]] = []
    bindings: dict[str, list[tuple[str, int] | int]] = {}
    if internal is not None and external is not None:
        try:
            mappings = ports.pair_ports(internal, external)
        except ports.PortPairingProblem as exc:
            only_internal = exc.fields == (ports.INTERNAL_PORTS,)
            read.problem("ports-internal" if only_internal else "ports-external", exc)
            return
        for m in mappings:
            if (m.container_port, m.protocol) not in exposed:
                exposed.append((m.container_port, m.protocol))
            binding: tuple[str, int] | int = (
                m.host_port if m.host_ip is None else (m.host_ip, m.host_port)
            )
            bindings.setdefault(f"{m.container_port}/{m.protocol}", []).append(binding)
    elif internal is not None:
        # No External Ports field: the ports are only declared (exposed), never published.
        specs = read.parse("ports-internal", ports.parse_internal) or []
        for spec in specs:
            for port in range(spec.start, spec.end + 1):
                if (port, spec.protocol or "tcp") not in exposed:
                    exposed.append((port, spec.protocol or "tcp"))
    if exposed:
        create["ports"] = exposed
    if bindings:
        # model.validate refuses bindings with the host or container: network modes.
        host["port_bindings"] = bindings


def _apply_process(read: _Reader, create: dict[str, Any]) -> None:
    env = read.parse("env", env_fields.parse_env)
    if env:
        create["environment"] = [f"{key}={value}" for key, value in env]
    entrypoint = read.parse("entrypoint", split_list)
    if entrypoint:
        create["entrypoint"] = entrypoint


def _apply_host(read: _Reader, host: dict[str, Any]) -> None:
    mounts = read.parse("volumes", volumes.parse_volumes)
    if mounts:
        # The list form, not the dict one: a dict keyed by source cannot mount one source twice.
        host["binds"] = [f"{m.source}:{m.target}:{m.mode or 'rw'}" for m in mounts]
    devices = read.parse("devices", device_fields.parse_devices)
    if devices:
        host["devices"] = [d.to_docker() for d in devices]
    if read.flag("privileged"):
        host["privileged"] = True

    driver = read.parse("logger-type", logger_fields.parse_logger_type)
    options = read.parse("logger-options", logger_fields.parse_logger_options) or {}
    if driver is not None:
        # Always sent, as Kura does, so the engine's daemon-wide default never applies.
        host["log_config"] = LogConfig(type=driver, config=options)

    memory = read.parse("memory", limits.parse_memory)
    if memory is not None:
        host["mem_limit"] = memory
    cpus_value = read.raw("cpus")
    if cpus_value is not None:
        try:
            cpus = limits.parse_cpus(cpus_value)
        except SyntaxProblem as exc:
            read.problem("cpus", exc)
            cpus = None
        if cpus is not None:
            host["cpu_period"] = CPU_PERIOD_US
            # round, not int(): 0.29 * 100000 is 28999.999... in binary floating point.
            host["cpu_quota"] = round(CPU_PERIOD_US * cpus)
    gpus = read.parse("gpus", limits.parse_gpus)
    if gpus is not None:
        host["device_requests"] = [
            DeviceRequest(driver="nvidia", count=gpus, capabilities=[["gpu"]])
        ]
    # Runtime belongs to HostConfig: create_container(runtime=...) puts it at the top level
    # of the request, where engine 20.10 ignores it.
    runtime = read.parse("runtime", names.parse_runtime)
    if runtime is not None:
        host["runtime"] = runtime
    network = read.parse("network-mode", names.parse_network_mode)
    if network is not None:
        host["network_mode"] = network
    if read.flag("restart-on-failure"):
        # The field says "on failure" (Kura sends unless-stopped). No retry cap: the engine
        # backs off by itself and counts the restarts.
        host["restart_policy"] = {"Name": "on-failure", "MaximumRetryCount": 0}


def _orderless(items: list[Any]) -> list[Any]:
    """A list whose order means nothing to the engine, in one canonical order."""
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))


def config_digest(
    reference: str, create_kwargs: Mapping[str, Any], host_config_kwargs: Mapping[str, Any],
    signing: SigningPolicy | None = None,
) -> str:
    """sha256 hex of the canonical JSON of what the engine gets.

    Lists whose order the engine ignores (exposed ports, environment with unique names,
    binds and devices with unique targets, the host bindings of one port) are sorted first,
    so rewriting a field in another order does not recreate the container.
    """
    create = dict(create_kwargs)
    host = dict(host_config_kwargs)
    for key in ("ports", "environment"):
        if key in create:
            create[key] = _orderless(list(create[key]))
    for key in ("binds", "devices"):
        if key in host:
            host[key] = _orderless(list(host[key]))
    if "port_bindings" in host:
        host["port_bindings"] = {
            port: _orderless(list(bound)) for port, bound in host["port_bindings"].items()
        }
    document: dict[str, Any] = {"reference": reference, "create": create, "host_config": host}
    if signing is not None:
        # A new trust anchor or log rule means the running image must be verified again.
        document["signing"] = {"anchor": signing.trust_anchor, "tlog": signing.transparency_log}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def container_labels(spec: ContainerSpec, store_id: str) -> dict[str, str]:
    """The labels that mark a container as ours, whose instance it is and what made it."""
    return {
        LABEL_MANAGED: "true",
        LABEL_INSTANCE: spec.name,
        LABEL_DIGEST: spec.digest,
        LABEL_STORE: store_id,
    }


def create_container(api: docker.APIClient, spec: ContainerSpec, store_id: str, *,
                     labels: Mapping[str, str] | None = None) -> str:
    """Create (not start) the container of ``spec``; return its id.

    ``labels`` replaces the instance labels, for containers that belong to no instance.
    """
    host_config = api.create_host_config(**spec.host_config_kwargs)
    created = api.create_container(
        **spec.create_kwargs,
        name=spec.name,
        labels=dict(labels) if labels is not None else container_labels(spec, store_id),
        host_config=host_config,
        # Otherwise docker-py adds proxy variables from the user's ~/.docker/config.json: the
        # container must get only what its configuration says.
        use_config_proxy=False,
    )
    return str(created["Id"])

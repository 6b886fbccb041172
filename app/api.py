"""The Python API for plugins, shaped after Kura's container orchestration API.

Every call returns a :class:`concurrent.futures.Future` at once; the engine work happens on the
orchestrator's threads. Containers started through :meth:`ContainerOrchestrationService.
start_container` are labelled as framework-managed but belong to no instance, so the
orchestrator's reconcile never removes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from app.config.model import Scalar
from app.engine.errors import EngineError, ErrorKind
from app.engine.gateway import Engine
from app.engine.labels import (
    LABEL_DIGEST,
    LABEL_MANAGED,
    LABEL_OWNER,
    OWNER_API,
    Owner,
    instance_of,
    is_managed,
    owner,
)
from app.engine.progress import PullProgress
from app.engine.spec import spec_from_values as _spec_from_values
from app.fields.lists import join_list
from app.inventory.rows import split_image
from app.metatype import INSTANCE_FACTORY_PID
from app.orchestrator.events import Listener
from app.orchestrator.service import Orchestrator

A = TypeVar("A")
B = TypeVar("B")


class ContainerState(str, Enum):
    """Kura's container states, mapped from the engine's state as Kura maps them."""

    STARTING = "starting"
    INSTALLED = "installed"
    ACTIVE = "active"
    FAILED = "failed"
    STOPPING = "stopping"

    @classmethod
    def from_engine(cls, state: str) -> ContainerState:
        return {
            "running": cls.ACTIVE,
            "paused": cls.STOPPING,
            "exited": cls.STOPPING,
            "dead": cls.FAILED,
        }.get(state, cls.INSTALLED)


@dataclass(frozen=True)
class PasswordRegistryCredentials:
    """A user name and password for a registry (``url`` None or empty: Docker Hub)."""

    url: str | None
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class ContainerPort:
    internal: int
    external: int
    protocol: str = "tcp"
    host_ip: str | None = None


@dataclass(frozen=True)
class ImageConfiguration:
    name: str
    tag: str = "latest"
    credentials: PasswordRegistryCredentials | None = None
    download_timeout_s: int = 500


@dataclass(frozen=True)
class ContainerConfiguration:
    """A container to create; build one with :meth:`builder`."""

    name: str
    image: ImageConfiguration
    ports: tuple[ContainerPort, ...] = ()
    env: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    privileged: bool = False
    memory: int | None = None
    cpus: float | None = None
    gpus: str | None = None
    runtime: str | None = None
    network_mode: str | None = None
    logging_type: str = "DEFAULT"
    logger_parameters: Mapping[str, str] = field(default_factory=dict)
    restart_on_failure: bool = False

    @staticmethod
    def builder() -> ContainerConfigurationBuilder:
        return ContainerConfigurationBuilder()

    def to_role_values(self) -> dict[str, Scalar]:
        """The configuration as values keyed by metatype role (see the instance XML)."""
        internal = [f"{p.internal}:{p.protocol}" for p in self.ports]
        external = [f"{p.host_ip}:{p.external}" if p.host_ip and ":" not in p.host_ip
                    else f"[{p.host_ip}]:{p.external}" if p.host_ip else str(p.external)
                    for p in self.ports]
        creds = self.image.credentials
        return {
            "enabled": True,
            "image": self.image.name,
            "image-tag": self.image.tag,
            "registry": (creds.url or "") if creds else "",
            "registry-username": creds.username if creds else "",
            "registry-password": creds.password if creds else "",
            "pull-timeout-s": self.image.download_timeout_s,
            "ports-internal": join_list(internal),
            "ports-external": join_list(external),
            "env": join_list(self.env),
            "volumes": join_list(self.volumes),
            "devices": join_list(self.devices),
            "entrypoint": join_list(self.entrypoint),
            "privileged": self.privileged,
            "memory": str(self.memory) if self.memory is not None else "",
            "cpus": self.cpus if self.cpus is not None else "",
            "gpus": self.gpus or "",
            "runtime": self.runtime or "",
            "network-mode": self.network_mode or "",
            "logger-type": self.logging_type,
            "logger-options": join_list(f"{k}={v}" for k, v in self.logger_parameters.items()),
            "restart-on-failure": self.restart_on_failure,
        }


class ContainerConfigurationBuilder:
    """Fluent builder of :class:`ContainerConfiguration` (Kura's embedded builder)."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def _set(self, key: str, value: Any) -> ContainerConfigurationBuilder:
        self._values[key] = value
        return self

    def set_container_name(self, name: str) -> ContainerConfigurationBuilder:
        return self._set("name", name)

    def set_image(self, image: ImageConfiguration) -> ContainerConfigurationBuilder:
        return self._set("image", image)

    def set_ports(self, ports: Sequence[ContainerPort]) -> ContainerConfigurationBuilder:
        return self._set("ports", tuple(ports))

    def set_env(self, env: Sequence[str]) -> ContainerConfigurationBuilder:
        return self._set("env", tuple(env))

    def set_volumes(self, volumes: Sequence[str]) -> ContainerConfigurationBuilder:
        return self._set("volumes", tuple(volumes))

    def set_devices(self, devices: Sequence[str]) -> ContainerConfigurationBuilder:
        return self._set("devices", tuple(devices))

    def set_entrypoint(self, entrypoint: Sequence[str]) -> ContainerConfigurationBuilder:
        return self._set("entrypoint", tuple(entrypoint))

    def set_privileged(self, privileged: bool) -> ContainerConfigurationBuilder:
        return self._set("privileged", privileged)

    def set_memory(self, memory: int | None) -> ContainerConfigurationBuilder:
        return self._set("memory", memory)

    def set_cpus(self, cpus: float | None) -> ContainerConfigurationBuilder:
        return self._set("cpus", cpus)

    def set_gpus(self, gpus: str | None) -> ContainerConfigurationBuilder:
        return self._set("gpus", gpus)

    def set_runtime(self, runtime: str | None) -> ContainerConfigurationBuilder:
        return self._set("runtime", runtime)

    def set_network_mode(self, mode: str | None) -> ContainerConfigurationBuilder:
        return self._set("network_mode", mode)

    def set_logging_type(self, logging_type: str) -> ContainerConfigurationBuilder:
        return self._set("logging_type", logging_type)

    def set_logger_parameters(self, params: Mapping[str, str]) -> ContainerConfigurationBuilder:
        return self._set("logger_parameters", dict(params))

    def set_restart_on_failure(self, restart: bool) -> ContainerConfigurationBuilder:
        return self._set("restart_on_failure", restart)

    def build(self) -> ContainerConfiguration:
        missing = [k for k in ("name", "image") if k not in self._values]
        if missing:
            raise ValueError(f"a container configuration needs {' and '.join(missing)}")
        return ContainerConfiguration(**self._values)


@dataclass(frozen=True)
class ContainerInstanceDescriptor:
    """A container as the engine reports it."""

    id: str
    name: str
    image: str
    tag: str
    state: ContainerState
    engine_state: str
    ports: tuple[ContainerPort, ...]
    framework_managed: bool
    instance: str | None


@dataclass(frozen=True)
class ImageInstanceDescriptor:
    id: str
    name: str
    tag: str
    size: int
    created: int
    labels: Mapping[str, str]


class ContainerOrchestrationService:
    """What a plugin uses to manage containers through Moorings."""

    def __init__(self, orchestrator: Orchestrator) -> None:
        self._orch = orchestrator

    def register_listener(self, listener: Listener) -> None:
        self._orch.add_listener(listener)

    def unregister_listener(self, listener: Listener) -> None:
        self._orch.remove_listener(listener)

    def list_container_ids(self) -> Future[list[str]]:
        return self._orch.call_engine(
            lambda engine: [c["Id"] for c in engine.containers()], "listing containers")

    def list_container_descriptors(self) -> Future[list[ContainerInstanceDescriptor]]:
        store = self._orch.store_id

        def run(engine: Engine) -> list[ContainerInstanceDescriptor]:
            out = []
            for row in engine.containers():
                labels = row.get("Labels") or {}
                image, tag = split_image(str(row.get("Image", "")))
                ports = tuple(
                    ContainerPort(int(p.get("PrivatePort", 0)), int(p.get("PublicPort", 0)),
                                  str(p.get("Type", "tcp")), p.get("IP") or None)
                    for p in row.get("Ports") or [] if p.get("PublicPort"))
                out.append(ContainerInstanceDescriptor(
                    id=row["Id"], name=(row.get("Names") or ["/"])[0].lstrip("/"),
                    image=image, tag=tag, state=ContainerState.from_engine(str(row["State"])),
                    engine_state=str(row["State"]), ports=ports,
                    framework_managed=is_managed(labels),
                    instance=instance_of(labels, store)))
            return out
        return self._orch.call_engine(run, "listing containers")

    def list_image_descriptors(self) -> Future[list[ImageInstanceDescriptor]]:
        def run(engine: Engine) -> list[ImageInstanceDescriptor]:
            out = []
            for img in engine.images():
                tags = img.get("RepoTags") or ["<none>:<none>"]
                for ref in tags:
                    name, tag = split_image(ref)
                    out.append(ImageInstanceDescriptor(
                        str(img["Id"]), name, tag, int(img.get("Size", 0)),
                        int(img.get("Created", 0)), dict(img.get("Labels") or {})))
            return out
        return self._orch.call_engine(run, "listing images")

    def get_container_id_by_name(self, name: str) -> Future[str | None]:
        def run(engine: Engine) -> str | None:
            for row in engine.containers(name=name):
                return str(row["Id"])
            return None
        return self._orch.call_engine(run, f"looking up {name}")

    def pull_image(self, image: ImageConfiguration,
                   on_progress: Callable[[PullProgress], None] | None = None,
                   *, always: bool = False) -> Future[None]:
        """Pull unless ``name:tag`` is present (Kura's rule) or ``always`` is set."""
        creds = image.credentials
        auth = None
        if creds is not None:
            auth = {"username": creds.username, "password": creds.password}
            if creds.url:
                auth["serveraddress"] = creds.url
        ref = f"{image.name}@{image.tag}" if image.tag.startswith("sha256:") \
            else f"{image.name}:{image.tag}"
        return self._orch.run_pull(ref, auth, float(image.download_timeout_s), on_progress,
                                   always=always)

    def start_container(self, config: ContainerConfiguration) -> Future[str]:
        """Create and start ``config`` (pulling if needed); return the container id.

        A running container of that name made from the same configuration is adopted as it
        is; one made by this API from another configuration is replaced; any other
        container of that name is left alone and the future fails with a sentence.
        """
        component = self._orch.repository.catalog.by_pid(INSTANCE_FACTORY_PID)
        store = self._orch.store_id
        values: dict[str, Scalar] = {}
        for role, value in config.to_role_values().items():
            desc = component.find_by_role(role)
            if desc is not None:
                values[desc.id] = value
        spec = _spec_from_values(component, config.name, values)
        labels = {LABEL_MANAGED: "true", LABEL_OWNER: OWNER_API, LABEL_DIGEST: spec.digest}

        def prepare(engine: Engine) -> str | None:
            for row in engine.containers(name=config.name):
                row_labels = row.get("Labels") or {}
                if owner(row_labels, store) is not Owner.API:
                    raise EngineError(f"a container named {config.name} already exists and was "
                                      "not created through this API; it is left alone.",
                                      ErrorKind.CONFLICT)
                if row_labels.get(LABEL_DIGEST) == spec.digest:
                    if row["State"] != "running":
                        self._orch.check_create(engine, spec.reference)
                        engine.start(row["Id"], config.name)
                    return str(row["Id"])
                engine.remove(row["Id"], name=config.name)
            return None

        def create(engine: Engine) -> str:
            # As for an instance: with enforcement on, an image not allowed is never created.
            self._orch.check_create(engine, spec.reference)
            cid = engine.create(spec, "", labels=labels)
            engine.start(cid, config.name)
            return cid

        auth = spec.credentials.auth_config() if spec.credentials else None
        prepared = self._orch.call_engine(prepare, f"preparing {config.name}")

        def after_prepare(existing: str | None) -> Future[str]:
            if existing is not None:
                done: Future[str] = Future()
                done.set_result(existing)
                return done
            pulled = self._orch.run_pull(spec.reference, auth, float(spec.pull.timeout_s), None)
            return _then(pulled, lambda _: self._orch.call_engine(
                create, f"creating {config.name}"))

        return _then(prepared, after_prepare)

    def start_container_by_id(self, container_id: str) -> Future[None]:
        return self._by_id(container_id, "start")

    def stop_container(self, container_id: str) -> Future[None]:
        """Stop a container; an instance's container counts as a person's stop."""
        return self._by_id(container_id, "stop")

    def delete_container(self, container_id: str) -> Future[None]:
        return self._by_id(container_id, "delete")

    def retry_instance(self, name: str) -> Future[None]:
        """After an instance gave up (its attempts used), try again with fresh attempts.

        A given-up instance is never retried by Moorings itself: a wrong password would keep
        hitting the registry. This is the person's Retry, as in the window.
        """
        return self._orch.retry_instance(name)

    def delete_image(self, image_id: str) -> Future[None]:
        return self._orch.call_engine(lambda engine: engine.remove_image(image_id),
                                      f"removing image {image_id[:19]}")

    def _by_id(self, container_id: str, what: str) -> Future[None]:
        store = self._orch.store_id

        def find(engine: Engine) -> tuple[str | None, str]:
            info = engine.inspect(container_id)
            labels = info.get("Config", {}).get("Labels") or {}
            return instance_of(labels, store), str(info["Id"])

        def direct(engine: Engine, cid: str) -> None:
            if what == "start":
                engine.start(cid)
            elif what == "stop":
                engine.stop(cid)
            else:
                engine.remove(cid)

        found = self._orch.call_engine(find, f"finding container {container_id[:12]}")

        def act(found_value: tuple[str | None, str]) -> Future[None]:
            instance, cid = found_value
            if instance is None:
                return self._orch.call_engine(lambda engine: direct(engine, cid),
                                              f"{what} {cid[:12]}")
            if what == "start":
                return self._orch.start_container(instance)
            if what == "stop":
                return self._orch.stop_container(instance)
            failed: Future[None] = Future()
            failed.set_exception(EngineError(
                f"the container {cid[:12]} belongs to the instance {instance}; disable or "
                "delete the instance to remove it.", kind="conflict"))
            return failed
        return _then(found, act)


def _then(first: Future[A], then: Callable[[A], Future[B]]) -> Future[B]:
    """A future of ``then(first's result)``: chains work across threads without blocking."""
    out: Future[B] = Future()

    def settle(nxt: Future[B]) -> None:
        exc = nxt.exception()
        if exc is not None:
            out.set_exception(exc)
        else:
            out.set_result(nxt.result())

    def step(f: Future[A]) -> None:
        exc = f.exception()
        if exc is not None:
            out.set_exception(exc)
            return
        try:
            then(f.result()).add_done_callback(settle)
        except BaseException as err:  # noqa: BLE001 - a failure in ``then`` settles the chain, not a thread
            out.set_exception(err)

    first.add_done_callback(step)
    return out


__all__ = [
    "ContainerConfiguration",
    "ContainerConfigurationBuilder",
    "ContainerInstanceDescriptor",
    "ContainerOrchestrationService",
    "ContainerPort",
    "ContainerState",
    "ImageConfiguration",
    "ImageInstanceDescriptor",
    "PasswordRegistryCredentials",
]

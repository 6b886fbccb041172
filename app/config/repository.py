"""Validated reads and writes of every component configuration, one writer at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.config.model import Scalar, ValidationResult, default_values, validate
from app.config.store import ConfigStore, StoredConfig, StoredInstance
from app.config.transfer import ParsedDocument, build_document, parse_document
from app.errors import ConfigError, FieldError
from app.metatype import INSTANCE_FACTORY_PID, SERVICE_PID, Catalog, ComponentDescriptor


@dataclass(frozen=True)
class InstanceConfig:
    """One stored instance: its name, factory and typed values (secrets included)."""

    name: str
    factory: str
    values: Mapping[str, Scalar]


ChangeListener = Callable[[str | None], None]
"""Called after a committed change with the instance name, or None for the service."""


class ConfigRepository:
    """Validated access to the store. Every write validates first and changes nothing on error.

    Writes do disk I/O: call them from a worker thread, never from a GUI thread. Reads never
    wait: a write builds a new snapshot and swaps it in only once it is on disk, so a reader
    (the GUI thread) sees the old or the new configuration and never blocks behind an fsync.
    """

    def __init__(self, store: ConfigStore, catalog: Catalog) -> None:
        self._store = store
        self._catalog = catalog
        self._lock = threading.RLock()
        loaded = store.load()
        self._data: StoredConfig = loaded.data
        self.load_warnings: list[str] = list(loaded.warnings)
        self._listeners: list[ChangeListener] = []

    # -- reading ---------------------------------------------------------------------------
    @property
    def catalog(self) -> Catalog:
        return self._catalog

    @property
    def store(self) -> ConfigStore:
        return self._store

    def service_descriptor(self) -> ComponentDescriptor:
        return self._catalog.by_pid(SERVICE_PID)

    def service_values(self) -> dict[str, Scalar]:
        base = default_values(self.service_descriptor())
        base.update(self._data.service)
        return base

    def instance_names(self) -> list[str]:
        return sorted(self._data.instances)

    def instances(self) -> list[InstanceConfig]:
        data = self._data  # one snapshot for the whole list
        return [self._instance(n, data) for n in sorted(data.instances)]

    def instance(self, name: str) -> InstanceConfig:
        return self._instance(name)

    def _instance(self, name: str, data: StoredConfig | None = None) -> InstanceConfig:
        stored = (data or self._data).instances[name]
        base = default_values(self._catalog.by_pid(stored.factory))
        base.update(stored.properties)
        return InstanceConfig(name, stored.factory, base)

    def has_instance(self, name: str) -> bool:
        return name in self._data.instances

    # -- checking --------------------------------------------------------------------------
    def check_instance(self, name: str, values: Mapping[str, object],
                       factory: str = INSTANCE_FACTORY_PID) -> ValidationResult:
        return validate(self._catalog.by_pid(factory), values, name)

    def check_new_name(self, name: str, factory: str = INSTANCE_FACTORY_PID) -> list[FieldError]:
        """Why ``name`` cannot be used for a new instance (empty list: it can)."""
        errors: list[FieldError] = []
        if not name.strip():
            return [FieldError("name", "Name", "A name is required; expected letters, digits, "
                               "'_', '.' or '-', starting with a letter or digit.", None, None)]
        result = validate(self._catalog.by_pid(factory), {}, name)
        errors.extend(e for e in result.errors if e.field_id == "name")
        if name in self._data.instances:
            errors.append(FieldError("name", "Name", f"An instance named {name} already "
                                     "exists; choose another name.", name, name))
        return errors

    # -- writing ---------------------------------------------------------------------------
    def add_listener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def _notify(self, name: str | None) -> None:
        for listener in list(self._listeners):
            listener(name)

    def _commit(self, data: StoredConfig) -> None:
        secret_ids: frozenset[str] = frozenset()
        for comp in self._catalog.components:
            secret_ids |= comp.secret_ids()
        self._store.save(data, secret_ids)
        self._data = data  # the swap readers see; ``data`` is never changed afterwards

    def _copy(self) -> StoredConfig:
        return StoredConfig(
            service=dict(self._data.service),
            instances={n: StoredInstance(i.factory, dict(i.properties))
                       for n, i in self._data.instances.items()},
        )

    def create_instance(self, name: str, factory: str = INSTANCE_FACTORY_PID,
                        values: Mapping[str, object] | None = None) -> InstanceConfig:
        """Create a new instance with default values (and any given); raise ConfigError."""
        with self._lock:
            errors = self.check_new_name(name, factory)
            if errors:
                raise ConfigError(errors)
            result = validate(self._catalog.by_pid(factory), values or {}, name)
            if result.errors:
                raise ConfigError(result.errors)
            data = self._copy()
            data.instances[name] = StoredInstance(factory, {**result.values, **result.extras})
            self._commit(data)
        self._notify(name)
        return self.instance(name)

    def update_instance(self, name: str, values: Mapping[str, object]) -> InstanceConfig:
        """Replace an instance's values after validating them all; raise ConfigError."""
        with self._lock:
            if name not in self._data.instances:
                raise ConfigError([FieldError("name", "Name", f"There is no instance named "
                                              f"{name}.", name, name)])
            factory = self._data.instances[name].factory
            current = self._instance(name).values
            merged = {**current, **values}
            result = validate(self._catalog.by_pid(factory), merged, name)
            if result.errors:
                raise ConfigError(result.errors)
            data = self._copy()
            data.instances[name] = StoredInstance(factory, {**result.values, **result.extras})
            self._commit(data)
        self._notify(name)
        return self.instance(name)

    def delete_instance(self, name: str) -> None:
        with self._lock:
            if name not in self._data.instances:
                return
            data = self._copy()
            del data.instances[name]
            self._commit(data)
        self._notify(name)

    def update_service(self, values: Mapping[str, object]) -> dict[str, Scalar]:
        with self._lock:
            merged = {**self.service_values(), **values}
            result = validate(self.service_descriptor(), merged, None)
            if result.errors:
                raise ConfigError(result.errors)
            data = self._copy()
            data.service = {**result.values, **result.extras}
            self._commit(data)
        self._notify(None)
        return self.service_values()

    # -- import / export -------------------------------------------------------------------
    def import_text(self, text: str) -> ParsedDocument:
        """Validate a whole document, then write it all or nothing.

        Instances in the document are created or replaced; others are kept. A secret that the
        document does not mention keeps its stored value (exports leave secrets out).
        """
        parsed = parse_document(text, self._catalog)
        if parsed.errors:
            return parsed
        with self._lock:
            data = self._copy()
            if parsed.service is not None:
                data.service = dict(parsed.service)
            for name, (factory, values) in parsed.instances.items():
                props = dict(values)
                old = self._data.instances.get(name)
                for sid in parsed.absent_secrets.get(name, set()):
                    if old is not None and sid in old.properties:
                        props[sid] = old.properties[sid]
                data.instances[name] = StoredInstance(factory, props)
            self._commit(data)
        for name in parsed.instances:
            self._notify(name)
        if parsed.service is not None:
            self._notify(None)
        return parsed

    def export_document(self, *, include_secrets: bool = False) -> dict[str, object]:
        with self._lock:
            instances = {i.name: (i.factory, dict(i.values)) for i in self.instances()}
            return build_document(self.service_values(), instances, self._catalog,
                                  include_secrets=include_secrets)

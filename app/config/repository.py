"""Validated reads and writes of every component configuration, one writer at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.config.model import Scalar, default_values, validate
from app.config.store import ConfigStore, StoredConfig, StoredInstance
from app.config.transfer import ParsedDocument, build_document, imported_values, parse_document
from app.errors import ConfigError, FieldError
from app.metatype import INSTANCE_FACTORY_PID, SERVICE_PID, Catalog, ComponentDescriptor


@dataclass(frozen=True)
class InstanceConfig:
    """One stored instance: its name, factory and typed values (secrets included)."""

    name: str
    factory: str
    values: Mapping[str, Scalar]


Derive = Callable[[InstanceConfig, bool], object]
"""What the core derives from each stored instance (the orchestrator: its container spec)."""


@dataclass(frozen=True)
class Changes:
    """What other processes changed since our snapshot: the instances whose stored configuration
    appeared, changed or went away, whether the service settings changed, and the revision of
    the files that carried the change."""

    names: frozenset[str] = frozenset()
    service: bool = False
    revision: int = 0
    components: frozenset[str] = frozenset()  # pids of the other singletons that changed

    def __bool__(self) -> bool:
        return bool(self.names or self.service or self.components)

    def __or__(self, other: Changes) -> Changes:
        return Changes(self.names | other.names, self.service or other.service,
                       max(self.revision, other.revision), self.components | other.components)


def _changes(old: StoredConfig, new: StoredConfig) -> Changes:
    names = {n for n in set(old.instances) | set(new.instances)
             if old.instances.get(n) != new.instances.get(n)}
    pids = {p for p in set(old.components) | set(new.components)
            if old.components.get(p) != new.components.get(p)}
    return Changes(frozenset(names), old.service != new.service, new.revision, frozenset(pids))


def _copy(data: StoredConfig) -> StoredConfig:
    return StoredConfig(
        service=dict(data.service),
        instances={n: StoredInstance(i.factory, dict(i.properties))
                   for n, i in data.instances.items()},
        components={p: dict(v) for p, v in data.components.items()},
        generation=data.generation, revision=data.revision)


class ConfigRepository:
    """Validated access to the store. Every write validates first and changes nothing on error.

    Every write applies its change to what is on disk at that moment, under the folder's write
    lock, so changes saved by another process (a ``config import``) are kept; :meth:`refresh`
    takes them into the snapshot. Writes do disk I/O: call them from a worker thread, never from
    a GUI thread. Reads never wait: a write builds a new snapshot and swaps it in only once it
    is on disk, so a reader (the GUI thread) sees the old or the new configuration and never
    blocks behind an fsync.
    """

    def __init__(self, store: ConfigStore, catalog: Catalog) -> None:
        self._store = store
        self._catalog = catalog
        self._lock = threading.RLock()
        loaded = store.load()
        self._data: StoredConfig = loaded.data
        self.load_warnings: list[str] = list(loaded.warnings)
        self._warnings: list[str] = []
        self._deriver: Derive | None = None
        self._derived: dict[str, tuple[StoredInstance, object]] = {}
        self._absorbed = Changes()

    # -- reading ---------------------------------------------------------------------------
    @property
    def catalog(self) -> Catalog:
        return self._catalog

    @property
    def store(self) -> ConfigStore:
        return self._store

    @property
    def generation(self) -> str:
        """The save the snapshot comes from (see ConfigStore): it changes with every save."""
        return self._data.generation

    @property
    def revision(self) -> int:
        """The snapshot's revision: one more than the save it replaced, in any process."""
        return self._data.revision

    def service_descriptor(self) -> ComponentDescriptor:
        return self._catalog.by_pid(SERVICE_PID)

    def service_values(self) -> dict[str, Scalar]:
        return self._service_values(self._data)

    def _service_values(self, data: StoredConfig) -> dict[str, Scalar]:
        base = default_values(self.service_descriptor())
        base.update(data.service)
        return base

    def component_values(self, pid: str) -> dict[str, Scalar]:
        """A singleton component's values other than the service's (the cloud connection):
        its defaults, then what is stored."""
        base = default_values(self._catalog.by_pid(pid))
        base.update(self._data.components.get(pid, {}))
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
    def system_written(self, name: str) -> list[str]:
        """The fields of the instance that Moorings writes, never a form (the verified digest):
        a form's copy of them may be stale."""
        if not self.has_instance(name):
            return []
        desc = self._catalog.by_pid(self.instance(name).factory).find_by_role("verified-digest")
        return [desc.id] if desc else []

    def check_new_name(self, name: str, factory: str = INSTANCE_FACTORY_PID) -> list[FieldError]:
        """Why ``name`` cannot be used for a new instance (empty list: it can)."""
        return self._name_errors(name, factory, self._data)

    def _name_errors(self, name: str, factory: str, data: StoredConfig) -> list[FieldError]:
        errors: list[FieldError] = []
        if not name.strip():
            return [FieldError("name", "Name", "A name is required; expected letters, digits, "
                               "'_', '.' or '-', starting with a letter or digit.", None, None)]
        result = validate(self._catalog.by_pid(factory), {}, name)
        errors.extend(e for e in result.errors if e.field_id == "name")
        if name in data.instances:
            errors.append(FieldError("name", "Name", f"An instance named {name} already "
                                     "exists; choose another name.", name, name))
        return errors

    # -- what is derived from each instance (once per change) -----------------------------
    def derive_with(self, derive: Derive) -> None:
        """Have ``derive(instance, validated)`` computed once for each instance whenever its
        stored configuration changes (now for every instance). ``validated`` says its values
        were just validated by the change that stored them (so they need not be again)."""
        with self._lock:
            self._deriver = derive
            self._derived = {}
            self._derive(self._data, frozenset())

    def derived(self, name: str) -> object | None:
        """What ``derive`` made of the instance's stored configuration (None: no deriver, or
        no such instance)."""
        data = self._data
        entry = self._derived.get(name)
        stored = data.instances.get(name)
        if entry is None or stored is None:
            return None
        if entry[0] is not stored and entry[0] != stored:
            # A snapshot newer than the derived values (swapped in meanwhile): derive now.
            return self._deriver(self._instance(name, data), False) if self._deriver else None
        return entry[1]

    def _derive(self, data: StoredConfig, validated: frozenset[str]) -> None:
        if self._deriver is None:
            return
        old = self._derived
        new: dict[str, tuple[StoredInstance, object]] = {}
        for name, stored in data.instances.items():
            kept = old.get(name)
            if kept is not None and kept[0] == stored:
                new[name] = (stored, kept[1])
            else:
                new[name] = (stored, self._deriver(self._instance(name, data),
                                                   name in validated))
        self._derived = new

    # -- writing ---------------------------------------------------------------------------
    def _commit(self, change: Callable[[StoredConfig], StoredConfig],
                validated: frozenset[str] = frozenset()) -> StoredConfig:
        """Apply ``change`` to what is on disk now (other processes may have written since our
        snapshot) and store it, all under the folder's write lock; swap the snapshot in.
        ``validated`` names the instances whose values ``change`` has just validated."""
        secret_ids: frozenset[str] = frozenset()
        for comp in self._catalog.components:
            secret_ids |= comp.secret_ids()
        with self._lock:
            def on_disk_now(data: StoredConfig) -> StoredConfig:
                if data.generation != self._data.generation:
                    # Another process saved since our snapshot: keep its change (it is in
                    # ``data``) and tell whoever acts on the configuration about it.
                    self._absorbed = self._absorbed | _changes(self._data, data)
                return change(_copy(data))
            result = self._store.update(on_disk_now, secret_ids)
            self._warnings.extend(result.warnings)
            self._derive(result.data, validated)
            self._data = result.data  # the swap readers see; never changed afterwards
        return result.data

    def create_instance(self, name: str, factory: str = INSTANCE_FACTORY_PID,
                        values: Mapping[str, object] | None = None) -> InstanceConfig:
        """Create a new instance with default values (and any given); raise ConfigError."""
        errors = self.check_new_name(name, factory)
        if errors:
            raise ConfigError(errors)
        result = validate(self._catalog.by_pid(factory), values or {}, name)
        if result.errors:
            raise ConfigError(result.errors)

        def change(data: StoredConfig) -> StoredConfig:
            taken = self._name_errors(name, factory, data)
            if taken:
                raise ConfigError(taken)
            data.instances[name] = StoredInstance(factory, {**result.values, **result.extras})
            return data
        self._commit(change, frozenset({name}))
        return self.instance(name)

    def update_instance(self, name: str, values: Mapping[str, object]) -> InstanceConfig:
        """Replace an instance's values after validating them all; raise ConfigError."""
        def change(data: StoredConfig) -> StoredConfig:
            if name not in data.instances:
                raise ConfigError([FieldError("name", "Name", f"There is no instance named "
                                              f"{name}.", name, name)])
            factory = data.instances[name].factory
            merged = {**self._instance(name, data).values, **values}
            result = validate(self._catalog.by_pid(factory), merged, name)
            if result.errors:
                raise ConfigError(result.errors)
            data.instances[name] = StoredInstance(factory, {**result.values, **result.extras})
            return data
        self._commit(change, frozenset({name}))
        return self.instance(name)

    def record_value(self, name: str, field_id: str, value: Scalar) -> bool:
        """Store one value that Moorings itself derived (the digest it verified), not a
        person's edit: the other values are kept as stored. Whether anything changed."""
        stored = self._data.instances.get(name)
        if stored is None or stored.properties.get(field_id) == value:
            return False

        def change(data: StoredConfig) -> StoredConfig:
            inst = data.instances.get(name)
            if inst is None:
                raise ConfigError([FieldError("name", "Name", f"There is no instance named "
                                              f"{name}.", name, name)])
            data.instances[name] = StoredInstance(inst.factory, {**inst.properties,
                                                                 field_id: value})
            return data
        self._commit(change)
        return True

    def delete_instance(self, name: str) -> None:
        if name not in self._data.instances:
            return

        def change(data: StoredConfig) -> StoredConfig:
            data.instances.pop(name, None)
            return data
        self._commit(change)

    def update_service(self, values: Mapping[str, object]) -> dict[str, Scalar]:
        def change(data: StoredConfig) -> StoredConfig:
            merged = {**self._service_values(data), **values}
            result = validate(self.service_descriptor(), merged, None)
            if result.errors:
                raise ConfigError(result.errors)
            data.service = {**result.values, **result.extras}
            return data
        self._commit(change)
        return self.service_values()

    def update_component(self, pid: str, values: Mapping[str, object]) -> dict[str, Scalar]:
        """Validate and store a singleton component's values (merged over the stored ones);
        raise ConfigError with every problem and change nothing."""
        desc = self._catalog.by_pid(pid)

        def change(data: StoredConfig) -> StoredConfig:
            merged = {**default_values(desc), **data.components.get(pid, {}), **values}
            result = validate(desc, merged, None)
            if result.errors:
                raise ConfigError(result.errors)
            data.components[pid] = {**result.values, **result.extras}
            return data
        self._commit(change)
        return self.component_values(pid)

    # -- other writers ---------------------------------------------------------------------
    def refresh(self) -> Changes | None:
        """Read the files again if another process saved since our snapshot; say what changed.

        Returns None when the files are as we last saw them (or cannot be read now: the next
        look will tell). Raises StoreError when they cannot be loaded at all.
        """
        on_disk = self._store.disk_generation()
        if on_disk is None or on_disk == self._data.generation:
            return None
        with self._lock:
            loaded = self._store.load()
            self._derive(loaded.data, frozenset())
            old, self._data = self._data, loaded.data
            self._warnings.extend(loaded.warnings)
            found = _changes(old, loaded.data)
            self._absorbed = self._absorbed | found
        return found

    def take_changes(self) -> Changes:
        """Every change of another process taken into the snapshot (by :meth:`refresh`, or by
        a write that found it on disk) since the last call; each is returned once."""
        with self._lock:
            taken, self._absorbed = self._absorbed, Changes()
        return taken

    def take_warnings(self) -> list[str]:
        """Sentences about what a later load or save had to repair (the first load's are in
        ``load_warnings``); each is returned once."""
        with self._lock:
            taken, self._warnings = self._warnings, []
        return taken

    # -- import / export -------------------------------------------------------------------
    def import_text(self, text: str) -> ParsedDocument:
        """Validate a whole Moorings JSON document, then write it all or nothing."""
        return self.import_document(parse_document(text, self._catalog))

    def import_document(self, parsed: ParsedDocument) -> ParsedDocument:
        """Write a checked document (any format the codec reads) all or nothing.

        Instances in the document are created or replaced; others are kept. A secret that the
        document does not give keeps its stored value (exports leave secrets out). A document
        with errors writes nothing and is returned as it is.
        """
        if parsed.errors:
            return parsed

        def change(data: StoredConfig) -> StoredConfig:
            if parsed.service is not None:
                data.service = dict(parsed.service)
            for name, (factory, _) in parsed.instances.items():
                old = data.instances.get(name)
                props = imported_values(parsed, name, old.properties if old else None)
                data.instances[name] = StoredInstance(factory, props)
            for pid, values in parsed.components.items():
                stored = data.components.get(pid, {})
                kept = {sid: stored[sid] for sid in parsed.absent_component_secrets.get(pid, ())
                        if sid in stored}
                data.components[pid] = {**values, **kept}
            return data
        self._commit(change, frozenset(parsed.instances))
        return parsed

    def export_document(self, *, include_secrets: bool = False) -> dict[str, object]:
        with self._lock:
            instances = {i.name: (i.factory, dict(i.values)) for i in self.instances()}
            return build_document(self.service_values(), instances, self._catalog,
                                  include_secrets=include_secrets,
                                  components=self.stored_components())

    def stored_components(self) -> dict[str, dict[str, Scalar]]:
        """The other singletons that have stored values (defaults filled in), by pid."""
        return {pid: self.component_values(pid) for pid in sorted(self._data.components)}

"""On-disk home of every component configuration: moorings.json plus owner-only secrets.json."""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from app.config.atomic import atomic_write, read_bytes, temp_target_name
from app.errors import StoreError
from app.paths import ensure_dir

__all__ = [
    "CONFIG_NAME",
    "MIGRATIONS",
    "SCHEMA1_SECRET_IDS",
    "SCHEMA_VERSION",
    "SECRETS_NAME",
    "ConfigStore",
    "LoadResult",
    "Scalar",
    "StoredConfig",
    "StoredInstance",
]

Scalar: TypeAlias = bool | int | float | str
JsonObject: TypeAlias = dict[str, Any]

SCHEMA_VERSION = 2
CONFIG_NAME = "moorings.json"
SECRETS_NAME = "secrets.json"
CONFIG_MODE = 0o644
SECRETS_MODE = 0o600
# Backups and moved-aside files may hold passwords (a schema 1 file had them inline).
BACKUP_MODE = 0o600

# Schema 1 is frozen history: these are the properties it stored inline in moorings.json, so
# migrating it needs no knowledge of today's metatype.
SCHEMA1_SECRET_IDS: frozenset[str] = frozenset({"registry.password"})


@dataclass
class StoredInstance:
    """One factory component instance: its factory PID and all its properties, secrets included."""

    factory: str
    properties: dict[str, Scalar] = field(default_factory=dict)


@dataclass
class StoredConfig:
    """Everything the store holds: the service's properties and the named instances."""

    service: dict[str, Scalar] = field(default_factory=dict)
    instances: dict[str, StoredInstance] = field(default_factory=dict)


@dataclass
class LoadResult:
    """What ``ConfigStore.load`` found, and sentences for a person about what it had to repair."""

    data: StoredConfig
    warnings: list[str] = field(default_factory=list)


class _Unreadable(Exception):
    """A file's content is not a configuration; the message says why, without any value."""


@dataclass
class _Documents:
    """The two files' JSON objects while a migration reshapes them."""

    config: JsonObject
    secrets: JsonObject


def _migrate_1_to_2(docs: _Documents) -> _Documents:
    config = copy.deepcopy(docs.config)
    secrets = copy.deepcopy(docs.secrets)
    instances = config.get("instances")
    if not isinstance(instances, dict):
        # Nothing to move; validating the schema 2 result reports the bad shape.
        return _Documents(config, secrets)
    secret_instances = secrets.setdefault("instances", {})
    for name, instance in instances.items():
        if not isinstance(instance, dict) or not isinstance(instance.get("properties"), dict):
            continue
        properties = instance["properties"]
        for prop_id in SCHEMA1_SECRET_IDS & properties.keys():
            value = properties.pop(prop_id)
            # The inline value was the one in force under schema 1, so it wins.
            if value != "":
                secret_instances.setdefault(name, {})[prop_id] = value
    config["schema"] = 2
    secrets["schema"] = 2
    return _Documents(config, secrets)


# MIGRATIONS[n] turns schema n into schema n + 1; a new schema adds one entry.
MIGRATIONS: dict[int, Callable[[_Documents], _Documents]] = {1: _migrate_1_to_2}


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> JsonObject:
    result: JsonObject = {}
    for key, value in pairs:
        if key in result:
            raise _Unreadable(f'the key "{key}" appears twice in one object')
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise _Unreadable(f"{name} is not a number JSON allows")


def _parse(raw: bytes) -> JsonObject:
    try:
        # utf-8-sig: an editor on Windows may have added a byte-order mark.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _Unreadable(f"it is not UTF-8 text: bad byte at offset {exc.start}") from None
    try:
        doc = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        # Only the position and the parser's complaint: the text itself may hold a secret.
        raise _Unreadable(f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise _Unreadable("it is nested too deeply") from None
    if not isinstance(doc, dict):
        raise _Unreadable(f"it holds {_kind(doc)} instead of a JSON object")
    return doc


def _schema_of(doc: JsonObject) -> int:
    version = doc.get("schema", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _Unreadable('"schema" is not a positive whole number')
    return version


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _object(doc: JsonObject, key: str, where: str) -> JsonObject:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise _Unreadable(f'{where}"{key}" is {_kind(value)} instead of an object')
    return value


def _scalars(values: JsonObject, where: str) -> dict[str, Scalar]:
    result: dict[str, Scalar] = {}
    for prop_id, value in values.items():
        if not isinstance(value, (bool, int, float, str)):
            # The property is named but never its value, which may be a secret.
            raise _Unreadable(
                f'{where}property "{prop_id}" is {_kind(value)}; '
                "expected true/false, a number or text"
            )
        result[prop_id] = value
    return result


def _config_from_doc(doc: JsonObject) -> StoredConfig:
    service = _scalars(_object(doc, "service", ""), "service ")
    instances: dict[str, StoredInstance] = {}
    for name, entry in _object(doc, "instances", "").items():
        where = f'instance "{name}": '
        if not isinstance(entry, dict):
            raise _Unreadable(f"{where}it is {_kind(entry)} instead of an object")
        factory = entry.get("factory")
        if not isinstance(factory, str) or not factory:
            raise _Unreadable(f'{where}"factory" is missing or not text')
        properties = _scalars(_object(entry, "properties", where), where)
        instances[name] = StoredInstance(factory=factory, properties=properties)
    return StoredConfig(service=service, instances=instances)


@dataclass
class _Secrets:
    service: dict[str, Scalar] = field(default_factory=dict)
    instances: dict[str, dict[str, Scalar]] = field(default_factory=dict)


def _secrets_from_doc(doc: JsonObject) -> _Secrets:
    service = _scalars(_object(doc, "service", ""), "service ")
    instances: dict[str, dict[str, Scalar]] = {}
    for name, entry in _object(doc, "instances", "").items():
        where = f'instance "{name}": '
        if not isinstance(entry, dict):
            raise _Unreadable(f"{where}it is {_kind(entry)} instead of an object")
        instances[name] = _scalars(entry, where)
    return _Secrets(service=service, instances=instances)


def _check_scalars(values: dict[str, Scalar], where: str) -> None:
    for prop_id, value in values.items():
        if not isinstance(value, (bool, int, float, str)):
            raise StoreError(
                f'Cannot save {where}property "{prop_id}": {_kind(value)} cannot be stored; '
                "expected true/false, a number or text."
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise StoreError(f'Cannot save {where}property "{prop_id}": it is not a finite number.')


def _split(data: StoredConfig, secret_ids: frozenset[str]) -> tuple[JsonObject, JsonObject]:
    """Build the two files' objects; every property in ``secret_ids`` goes to the second."""
    _check_scalars(data.service, "service ")
    public_service = {k: v for k, v in data.service.items() if k not in secret_ids}
    secret_service = {k: v for k, v in data.service.items() if k in secret_ids and v != ""}
    public_instances: JsonObject = {}
    secret_instances: JsonObject = {}
    for name, instance in data.instances.items():
        if not isinstance(name, str) or not name:
            raise StoreError("Cannot save an instance without a name.")
        if not isinstance(instance.factory, str) or not instance.factory:
            raise StoreError(f'Cannot save instance "{name}": it has no factory PID.')
        _check_scalars(instance.properties, f'instance "{name}" ')
        props = instance.properties
        public_instances[name] = {
            "factory": instance.factory,
            "properties": {k: v for k, v in props.items() if k not in secret_ids},
        }
        hidden = {k: v for k, v in props.items() if k in secret_ids and v != ""}
        if hidden:
            secret_instances[name] = hidden
    config: JsonObject = {
        "schema": SCHEMA_VERSION,
        "service": public_service,
        "instances": public_instances,
    }
    secrets: JsonObject = {"schema": SCHEMA_VERSION}
    # The service has no secret today; the section appears only if it ever gets one.
    if secret_service:
        secrets["service"] = secret_service
    secrets["instances"] = secret_instances
    return config, secrets


def _encode(doc: JsonObject) -> bytes:
    try:
        text = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (read from a "\\ud800" escape) has no UTF-8 form; escaping
        # everything keeps it intact.
        text = json.dumps(doc, indent=2, ensure_ascii=True, allow_nan=False)
        return (text + "\n").encode("ascii")


def _timestamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


@dataclass
class _FileState:
    """One file as found on disk: its bytes (None if absent) and its object, or why not."""

    path: Path
    raw: bytes | None
    doc: JsonObject | None = None
    version: int = SCHEMA_VERSION
    problem: str | None = None


class ConfigStore:
    """Reads and writes moorings.json and secrets.json in one folder.

    The caller serialises access (one process at a time holds the folder's lock).
    """

    def __init__(self, folder: Path) -> None:
        self._folder = Path(folder)

    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def path(self) -> Path:
        return self._folder / CONFIG_NAME

    @property
    def secrets_path(self) -> Path:
        return self._folder / SECRETS_NAME

    # -- loading -----------------------------------------------------------------------------

    def load(self) -> LoadResult:
        """Read both files, repairing what can be repaired and saying so in ``warnings``.

        Missing files give an empty configuration. Raises StoreError, leaving every file as it
        was, if a file comes from a newer Moorings or cannot be read at all; a file whose
        content is damaged is moved aside instead, with a warning naming the moved copy.
        """
        config = self._examine(self.path)
        secrets = self._examine(self.secrets_path)
        # Refuse before touching anything, so a newer Moorings finds its files intact.
        for state in (config, secrets):
            if state.problem is None and state.version > SCHEMA_VERSION:
                raise StoreError(
                    f"{state.path} was written by a newer Moorings (schema {state.version}; "
                    f"this version understands up to schema {SCHEMA_VERSION}). Nothing was "
                    "changed: use the newer Moorings, or another configuration folder."
                )

        warnings: list[str] = []
        self._remove_stale_temps()
        if secrets.raw is not None:
            self._tighten_secrets(warnings)

        secret_doc: JsonObject = {"schema": SCHEMA_VERSION, "instances": {}}
        if secrets.doc is not None:
            try:
                _secrets_from_doc(secrets.doc)
                secret_doc = secrets.doc
            except _Unreadable as exc:
                secrets.problem = str(exc)
        if secrets.problem is not None:
            self._set_aside(
                secrets, warnings, "saved passwords are missing and must be entered again"
            )

        stored = StoredConfig()
        if config.doc is not None and config.raw is not None:
            try:
                stored, secret_doc = self._upgrade(
                    config.raw, config.doc, config.version, secret_doc, warnings
                )
            except _Unreadable as exc:
                config.problem = str(exc)
        if config.problem is not None:
            self._set_aside(config, warnings, "Moorings started with an empty configuration")

        self._merge_secrets(stored, _secrets_from_doc(secret_doc), warnings)
        return LoadResult(data=stored, warnings=warnings)

    def _examine(self, path: Path) -> _FileState:
        try:
            raw = read_bytes(path)
        except OSError as exc:
            raise StoreError(f"{path} cannot be read: {exc.strerror or exc}.") from None
        state = _FileState(path=path, raw=raw)
        if raw is None:
            return state
        try:
            state.doc = _parse(raw)
            state.version = _schema_of(state.doc)
        except _Unreadable as exc:
            state.doc = None
            state.problem = str(exc)
        return state

    def _remove_stale_temps(self) -> None:
        try:
            entries = list(self._folder.iterdir())
        except OSError:
            return
        for entry in entries:
            target = temp_target_name(entry.name)
            if target is not None and target.startswith((CONFIG_NAME, SECRETS_NAME)):
                with contextlib.suppress(OSError):
                    entry.unlink()

    def _tighten_secrets(self, warnings: list[str]) -> None:
        if os.name != "posix":
            return
        path = self.secrets_path
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            return
        if mode & 0o077 == 0:
            return
        try:
            os.chmod(path, SECRETS_MODE)
        except OSError as exc:
            warnings.append(
                f"{path} can be read by other users (mode {mode:04o}) and its permissions "
                f"could not be restricted ({exc.strerror or exc}); restrict them to 0600."
            )
            return
        warnings.append(
            f"{path} could be read by other users (mode {mode:04o}); its permissions were "
            "set to 0600 so that only you can read it."
        )

    def _set_aside(self, state: _FileState, warnings: list[str], consequence: str) -> None:
        stamp = _timestamp()
        try:
            moved = self._move_without_clobbering(state.path, f"unreadable-{stamp}")
        except OSError as exc:
            raise StoreError(
                f"{state.path} cannot be read ({state.problem}) and could not be moved aside "
                f"({exc.strerror or exc}). It was left as it is; repair or remove it."
            ) from None
        warnings.append(
            f"{state.path} could not be read ({state.problem}). It was moved to {moved} and "
            f"{consequence}."
        )

    def _free_name(self, path: Path, tag: str) -> Path:
        candidate = path.with_name(f"{path.name}.{tag}.bak")
        counter = 1
        while candidate.exists() or candidate.is_symlink():
            counter += 1
            candidate = path.with_name(f"{path.name}.{tag}-{counter}.bak")
        return candidate

    def _move_without_clobbering(self, path: Path, tag: str) -> Path:
        while True:
            target = self._free_name(path, tag)
            try:
                # A hard link fails if the name was taken meanwhile, where rename would clobber.
                os.link(path, target)
            except FileExistsError:
                continue
            except OSError:
                # Some filesystems (FAT, some network mounts) have no hard links.
                os.rename(path, target)
            else:
                os.unlink(path)
            with contextlib.suppress(OSError):
                os.chmod(target, BACKUP_MODE)
            return target

    def _upgrade(
        self,
        raw: bytes,
        doc: JsonObject,
        old_version: int,
        secret_doc: JsonObject,
        warnings: list[str],
    ) -> tuple[StoredConfig, JsonObject]:
        """Validate moorings.json, first migrating it (on disk too) if it is older."""
        if old_version == SCHEMA_VERSION:
            return _config_from_doc(doc), secret_doc
        docs = _Documents(doc, secret_doc)
        for version in range(old_version, SCHEMA_VERSION):
            docs = MIGRATIONS[version](docs)
        # Validate everything before writing anything: a damaged old file is moved aside intact.
        stored = _config_from_doc(docs.config)
        _secrets_from_doc(docs.secrets)
        backup = self._free_name(self.path, f"schema{old_version}")
        try:
            atomic_write(backup, raw, BACKUP_MODE)
            self._write(docs.config, docs.secrets)
        except OSError as exc:
            raise StoreError(
                f"{self.path} was written by an older Moorings (schema {old_version}) and "
                f"could not be upgraded: {exc.strerror or exc}."
            ) from None
        warnings.append(
            f"{self.path} was written by an older Moorings (schema {old_version}) and was "
            f"upgraded to schema {SCHEMA_VERSION}; passwords now live in {self.secrets_path}. "
            f"The old file was kept as {backup}; it holds passwords, so delete it when you no "
            "longer need it."
        )
        return stored, docs.secrets

    def _merge_secrets(self, stored: StoredConfig, secrets: _Secrets, warnings: list[str]) -> None:
        stored.service.update(secrets.service)
        orphans: list[str] = []
        for name, values in secrets.instances.items():
            instance = stored.instances.get(name)
            if instance is None:
                orphans.append(name)
            else:
                instance.properties.update(values)
        if orphans:
            names = ", ".join(f'"{name}"' for name in sorted(orphans))
            warnings.append(
                f"{self.secrets_path} holds passwords for instances that {self.path} does not "
                f"define ({names}); they are ignored and will be dropped at the next save."
            )

    # -- saving ------------------------------------------------------------------------------

    def save(self, data: StoredConfig, secret_ids: frozenset[str]) -> None:
        """Write ``data``; properties named in ``secret_ids`` go to secrets.json only.

        Raises StoreError (nothing changed) if a file on disk comes from a newer Moorings or a
        value cannot be stored, and StoreError if writing fails.
        """
        config_doc, secrets_doc = _split(data, secret_ids)
        for path in (self.path, self.secrets_path):
            state = self._examine(path)
            if state.problem is None and state.version > SCHEMA_VERSION:
                raise StoreError(
                    f"{path} was written by a newer Moorings (schema {state.version}). "
                    "Nothing was saved, so as not to destroy it."
                )
        ensure_dir(self._folder)
        try:
            self._write(config_doc, secrets_doc)
        except OSError as exc:
            raise StoreError(
                f"The configuration could not be saved in {self._folder}: {exc.strerror or exc}."
            ) from None

    def _write(self, config_doc: JsonObject, secrets_doc: JsonObject) -> None:
        config_bytes = _encode(config_doc)
        secrets_bytes = _encode(secrets_doc)
        # Secrets first: a crash in between leaves moorings.json pointing at old or new
        # secrets, both complete, and never a moorings.json that lost its passwords.
        atomic_write(self.secrets_path, secrets_bytes, SECRETS_MODE)
        atomic_write(self.path, config_bytes, CONFIG_MODE)

"""On-disk home of every component configuration: moorings.json plus owner-only secrets.json."""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import secrets as token
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from app.config.atomic import atomic_write, temp_target_name
from app.config.folder import check_folder, read_regular, write_lock
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
    "UpdateResult",
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

# The sections of secrets.json that hold values (the rest is bookkeeping).
_SECRET_SECTIONS = ("service", "instances", "components")

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
    """Everything the store holds: the service's properties, the named instances, and the
    properties of the other singleton components by pid (the cloud connection)."""

    service: dict[str, Scalar] = field(default_factory=dict)
    instances: dict[str, StoredInstance] = field(default_factory=dict)
    components: dict[str, dict[str, Scalar]] = field(default_factory=dict)
    # Which save produced it (a token written into both files, so that they are one commit);
    # "" for a configuration not read from disk or written before generations existed.
    generation: str = field(default="", compare=False)
    # Counts saves, whoever made them (one more than the save it replaced).
    revision: int = field(default=0, compare=False)


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
    except ValueError:
        # int() refuses numbers of more than 4300 digits (CVE-2020-10735's limit).
        raise _Unreadable("it holds a number too long to read (more than 4300 digits)") from None
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
        if isinstance(value, float) and not math.isfinite(value):
            raise _Unreadable(f'{where}property "{prop_id}" is a number too large to hold')
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
    return StoredConfig(service=service, instances=instances,
                        components=_components(doc),
                        generation=_text(doc, "generation"), revision=_revision(doc))


def _components(doc: JsonObject) -> dict[str, dict[str, Scalar]]:
    out: dict[str, dict[str, Scalar]] = {}
    for pid, entry in _object(doc, "components", "").items():
        where = f'component "{pid}": '
        if not isinstance(entry, dict):
            raise _Unreadable(f"{where}it is {_kind(entry)} instead of an object")
        out[pid] = _scalars(entry, where)
    return out


@dataclass
class _Secrets:
    service: dict[str, Scalar] = field(default_factory=dict)
    instances: dict[str, dict[str, Scalar]] = field(default_factory=dict)
    components: dict[str, dict[str, Scalar]] = field(default_factory=dict)


def _secrets_from_doc(doc: JsonObject) -> _Secrets:
    service = _scalars(_object(doc, "service", ""), "service ")
    instances: dict[str, dict[str, Scalar]] = {}
    for name, entry in _object(doc, "instances", "").items():
        where = f'instance "{name}": '
        if not isinstance(entry, dict):
            raise _Unreadable(f"{where}it is {_kind(entry)} instead of an object")
        instances[name] = _scalars(entry, where)
    return _Secrets(service=service, instances=instances, components=_components(doc))


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
    public_components: JsonObject = {}
    secret_components: JsonObject = {}
    for pid, props in data.components.items():
        _check_scalars(props, f'component "{pid}" ')
        public_components[pid] = {k: v for k, v in props.items() if k not in secret_ids}
        hidden = {k: v for k, v in props.items() if k in secret_ids and v != ""}
        if hidden:
            secret_components[pid] = hidden
    # Only when there are any: a folder without them reads the same in an older Moorings.
    if public_components:
        config["components"] = public_components
    secrets: JsonObject = {"schema": SCHEMA_VERSION}
    # The service has no secret today; the section appears only if it ever gets one.
    if secret_service:
        secrets["service"] = secret_service
    secrets["instances"] = secret_instances
    if secret_components:
        secrets["components"] = secret_components
    return config, secrets


def _text_of(doc: JsonObject, ascii_only: bool) -> str:
    """One top-level key a line, and one instance a line: readable and diffable, and written by
    the C encoder (json's indent= runs in Python, ten times slower: a save of 150 instances
    took tens of milliseconds of an Apply)."""
    def dumps(value: object) -> str:
        return json.dumps(value, ensure_ascii=ascii_only, allow_nan=False)

    lines = ["{"]
    keys = list(doc)
    for i, key in enumerate(keys):
        end = "," if i < len(keys) - 1 else ""
        value = doc[key]
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            lines.append(f"  {dumps(key)}: {{")
            names = list(value)
            for j, name in enumerate(names):
                lines.append(f"    {dumps(name)}: {dumps(value[name])}"
                             f"{',' if j < len(names) - 1 else ''}")
            lines.append(f"  }}{end}")
        else:
            lines.append(f"  {dumps(key)}: {dumps(value)}{end}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _encode(doc: JsonObject) -> bytes:
    try:
        return _text_of(doc, ascii_only=False).encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (read from a "\\ud800" escape) has no UTF-8 form; escaping
        # everything keeps it intact.
        return _text_of(doc, ascii_only=True).encode("ascii")


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


def _text(doc: JsonObject | None, key: str) -> str:
    value = doc.get(key, "") if doc is not None else ""
    return value if isinstance(value, str) else ""


def _revision(doc: JsonObject | None) -> int:
    value = doc.get("revision", 0) if doc is not None else 0
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _paired_secrets(config_doc: JsonObject | None,
                    secret_doc: JsonObject) -> tuple[JsonObject, str | None]:
    """The set of secrets that belongs with moorings.json, and why it is not the obvious one.

    moorings.json names the generation of its set of secrets (``"secrets"``). A save that
    changes a secret writes secrets.json first with the new set and the one in force
    (``previous``), then moorings.json naming the new set: whichever of the two renames a crash
    falls between, moorings.json names a set that secrets.json holds.
    """
    wanted = _text(config_doc, "secrets")
    main = _text(secret_doc, "generation")
    if main == wanted:
        return secret_doc, None
    previous = secret_doc.get("previous")
    if isinstance(previous, dict) and _text(previous, "generation") == wanted:
        return previous, "interrupted"
    if not wanted or not main:
        return secret_doc, None  # written before generations existed
    return secret_doc, "mismatch"


@dataclass
class UpdateResult:
    """What ``ConfigStore.update`` committed, and what the load under the same lock repaired."""

    data: StoredConfig
    warnings: list[str] = field(default_factory=list)


class ConfigStore:
    """Reads and writes moorings.json and secrets.json in one folder.

    Every read and write holds the folder's write lock, so several processes (the window,
    headless mode, ``config`` commands) can share one folder: :meth:`update` reads what is on
    disk now, applies a change and writes it back, and no writer loses another's change.
    """

    def __init__(self, folder: Path) -> None:
        self._folder = Path(folder)
        # What the files held when this store last read or wrote them, with their
        # fingerprints: a read-modify-write finds them unchanged most of the time, and then
        # need not read and check them again. (Every save replaces a file by rename, so a
        # change always changes the inode.) The cached data is never changed in place.
        self._cached: tuple[object, StoredConfig] | None = None

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
        was, if a file comes from a newer Moorings, is not a regular file, sits in a folder
        that others may write, or cannot be read at all; a file whose content is damaged is
        moved aside instead, with a warning naming the moved copy.
        """
        check_folder(self._folder)
        if not self._folder.is_dir():
            return LoadResult(data=StoredConfig())
        with write_lock(self._folder):
            return self._load_locked()

    def signature(self) -> tuple[int, int, int] | None:
        """A cheap fingerprint of moorings.json (inode, size, mtime): it changes with every save."""
        try:
            st = os.lstat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def disk_generation(self) -> str | None:
        """The generation moorings.json holds now ("" for none), or None if it cannot be read."""
        try:
            raw = read_regular(self.path)
        except (OSError, StoreError):
            return None
        if raw is None:
            return ""
        try:
            return _text(_parse(raw), "generation")
        except _Unreadable:
            return None

    def _fingerprints(self) -> object:
        out: list[tuple[int, ...] | None] = []
        for path in (self.path, self.secrets_path):
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                out.append(None)
                continue
            out.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode))
        return tuple(out)

    def _load_locked(self) -> LoadResult:
        cached = self._cached
        if cached is not None and cached[0] == self._fingerprints():
            return LoadResult(data=cached[1])
        result = self._read_locked()
        self._cached = (self._fingerprints(), result.data)
        return result

    def _read_locked(self) -> LoadResult:
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
                chosen, note = _paired_secrets(config.doc, secrets.doc)
                _secrets_from_doc(chosen)
                secret_doc = chosen
            except _Unreadable as exc:
                secrets.problem = str(exc)
            else:
                self._note_pairing(note, config.doc, chosen, warnings)
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

    def _note_pairing(self, note: str | None, config_doc: JsonObject | None,
                      chosen: JsonObject, warnings: list[str]) -> None:
        if note == "interrupted":
            warnings.append(
                f"The last save of the configuration in {self._folder} was interrupted before "
                "it finished; the configuration from before it is in force."
            )
            # Drop the set that never took effect (it may hold a password nobody uses).
            repaired: JsonObject = {"schema": SCHEMA_VERSION,
                                    "generation": _text(config_doc, "secrets")}
            for key in _SECRET_SECTIONS:
                if key in chosen:
                    repaired[key] = chosen[key]
            with contextlib.suppress(OSError):
                atomic_write(self.secrets_path, _encode(repaired), SECRETS_MODE)
        elif note == "mismatch":
            warnings.append(
                f"{self.secrets_path} was not saved together with {self.path} (one of them was "
                "replaced by hand or from a backup); its passwords are used for the instances "
                "of the same names, so check the registry passwords."
            )

    def _examine(self, path: Path) -> _FileState:
        try:
            raw = read_regular(path)
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
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                         | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return
        try:
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
            if mode & 0o077 == 0:
                return
            try:
                # Through the open file, never the name: a link swapped in meanwhile is not
                # followed to chmod someone else's file.
                os.fchmod(fd, SECRETS_MODE)
            except OSError as exc:
                warnings.append(
                    f"{path} can be read by other users (mode {mode:04o}) and its permissions "
                    f"could not be restricted ({exc.strerror or exc}); restrict them to 0600."
                )
                return
        finally:
            os.close(fd)
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
            stored.generation = self._write(docs.config, docs.secrets)
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
        for pid, values in secrets.components.items():
            stored.components.setdefault(pid, {}).update(values)
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

    def save(self, data: StoredConfig, secret_ids: frozenset[str]) -> str:
        """Write ``data`` as it is, replacing what is on disk; return the new generation.

        Properties named in ``secret_ids`` go to secrets.json only. Raises StoreError (nothing
        changed) if a file on disk comes from a newer Moorings or a value cannot be stored, and
        StoreError if writing fails. Prefer :meth:`update`, which keeps other writers' changes.
        """
        config_doc, secrets_doc = _split(data, secret_ids)
        check_folder(self._folder)
        ensure_dir(self._folder)
        with write_lock(self._folder):
            for path in (self.path, self.secrets_path):
                state = self._examine(path)
                if state.problem is None and state.version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{path} was written by a newer Moorings (schema {state.version}). "
                        "Nothing was saved, so as not to destroy it."
                    )
            return self._save_locked(config_doc, secrets_doc)

    def update(self, change: Callable[[StoredConfig], StoredConfig],
               secret_ids: frozenset[str]) -> UpdateResult:
        """Read what is on disk now, apply ``change`` to it and write the result, all under the
        folder's write lock. ``change`` may raise (ConfigError, say): then nothing is written."""
        check_folder(self._folder)
        ensure_dir(self._folder)
        with write_lock(self._folder):
            loaded = self._load_locked()
            data = change(loaded.data)
            config_doc, secrets_doc = _split(data, secret_ids)
            data.generation = self._save_locked(config_doc, secrets_doc)
            data.revision = loaded.data.revision + 1
            self._cached = (self._fingerprints(), data)
            return UpdateResult(data=data, warnings=loaded.warnings)

    def _save_locked(self, config_doc: JsonObject, secrets_doc: JsonObject) -> str:
        try:
            return self._write(config_doc, secrets_doc)
        except OSError as exc:
            raise StoreError(
                f"The configuration could not be saved in {self._folder}: {exc.strerror or exc}. "
                "Nothing was changed."
            ) from None

    def _in_force(self) -> tuple[bytes | None, JsonObject | None, int]:
        """The secrets file's bytes now; the set in force with its generation (the set that the
        moorings.json on disk names); and the revision on disk."""
        config = self._examine(self.path)
        secrets = self._examine(self.secrets_path)
        if config.doc is None:
            return secrets.raw, None, 0
        chosen: JsonObject = {}
        if secrets.doc is not None:
            chosen, _ = _paired_secrets(config.doc, secrets.doc)
        in_force: JsonObject = {"generation": _text(chosen, "generation")}
        for key in _SECRET_SECTIONS:
            if isinstance(chosen.get(key), dict):
                in_force[key] = chosen[key]
        return secrets.raw, in_force, _revision(config.doc)

    def _write(self, config_doc: JsonObject, secrets_doc: JsonObject) -> str:
        """Write both files as one commit; return the new generation of moorings.json.

        When the secrets are those in force, only moorings.json is written (naming the same set
        of secrets). Otherwise secrets.json first, holding the new set and the one in force; then
        moorings.json naming the new set (the commit); then secrets.json again without the old
        set. A crash or a full disk at any point leaves both old or both new.
        """
        generation = token.token_hex(8)
        old_raw, in_force, revision = self._in_force()
        sets: JsonObject = {k: secrets_doc[k] for k in _SECRET_SECTIONS if k in secrets_doc}
        unchanged = in_force is not None and old_raw is not None and all(
            (in_force.get(k) or {}) == (sets.get(k) or {}) for k in _SECRET_SECTIONS)
        secrets_generation = _text(in_force, "generation") if unchanged else token.token_hex(8)
        config_out: JsonObject = {"schema": config_doc.get("schema", SCHEMA_VERSION),
                                  "generation": generation, "revision": revision + 1,
                                  "secrets": secrets_generation}
        config_out.update((k, v) for k, v in config_doc.items()
                          if k not in ("schema", "generation", "revision", "secrets"))
        config_bytes = _encode(config_out)
        if unchanged:
            atomic_write(self.path, config_bytes, CONFIG_MODE)
            return generation
        secrets_out: JsonObject = {"schema": secrets_doc.get("schema", SCHEMA_VERSION),
                                   "generation": secrets_generation, **sets}
        staged = dict(secrets_out)
        if in_force is not None:
            staged["previous"] = in_force
        atomic_write(self.secrets_path, _encode(staged), SECRETS_MODE)
        try:
            atomic_write(self.path, config_bytes, CONFIG_MODE)
        except BaseException:
            # Not committed: moorings.json still names the set in force. Put the old bytes
            # back where the disk allows, so that a refused save leaves no trace.
            with contextlib.suppress(OSError):
                if old_raw is not None:
                    atomic_write(self.secrets_path, old_raw, SECRETS_MODE)
                else:
                    os.unlink(self.secrets_path)
            raise
        if in_force is not None:
            # Committed; the old set (say, a password just changed) is dropped. If this write
            # fails, the next save that changes a secret, or an interrupted-save repair, drops it.
            with contextlib.suppress(OSError):
                atomic_write(self.secrets_path, _encode(secrets_out), SECRETS_MODE)
        return generation

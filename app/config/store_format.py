"""moorings.json and secrets.json as documents: the stored configuration's shape, strict JSON
reading, the schema migrations, the split of secrets from the rest, and the encoding (one
instance a line)."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from app.errors import StoreError

Scalar: TypeAlias = bool | int | float | str
JsonObject: TypeAlias = dict[str, Any]

SCHEMA_VERSION = 2

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


class Unreadable(Exception):
    """A file's content is not a configuration; the message says why, without any value."""


@dataclass
class Documents:
    """The two files' JSON objects while a migration reshapes them."""

    config: JsonObject
    secrets: JsonObject


def migrate_1_to_2(docs: Documents) -> Documents:
    config = copy.deepcopy(docs.config)
    secrets = copy.deepcopy(docs.secrets)
    instances = config.get("instances")
    if not isinstance(instances, dict):
        # Nothing to move; validating the schema 2 result reports the bad shape.
        return Documents(config, secrets)
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
    return Documents(config, secrets)


# MIGRATIONS[n] turns schema n into schema n + 1; a new schema adds one entry.
MIGRATIONS: dict[int, Callable[[Documents], Documents]] = {1: migrate_1_to_2}


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> JsonObject:
    result: JsonObject = {}
    for key, value in pairs:
        if key in result:
            raise Unreadable(f'the key "{key}" appears twice in one object')
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise Unreadable(f"{name} is not a number JSON allows")


def parse(raw: bytes) -> JsonObject:
    try:
        # utf-8-sig: an editor on Windows may have added a byte-order mark.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"it is not UTF-8 text: bad byte at offset {exc.start}") from None
    try:
        doc = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        # Only the position and the parser's complaint: the text itself may hold a secret.
        raise Unreadable(f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise Unreadable("it is nested too deeply") from None
    except ValueError:
        # int() refuses numbers of more than 4300 digits (CVE-2020-10735's limit).
        raise Unreadable("it holds a number too long to read (more than 4300 digits)") from None
    if not isinstance(doc, dict):
        raise Unreadable(f"it holds {kind_of(doc)} instead of a JSON object")
    return doc


def schema_of(doc: JsonObject) -> int:
    version = doc.get("schema", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise Unreadable('"schema" is not a positive whole number')
    return version


def kind_of(value: object) -> str:
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
        raise Unreadable(f'{where}"{key}" is {kind_of(value)} instead of an object')
    return value


def _scalars(values: JsonObject, where: str) -> dict[str, Scalar]:
    result: dict[str, Scalar] = {}
    for prop_id, value in values.items():
        if not isinstance(value, (bool, int, float, str)):
            # The property is named but never its value, which may be a secret.
            raise Unreadable(
                f'{where}property "{prop_id}" is {kind_of(value)}; '
                "expected true/false, a number or text"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise Unreadable(f'{where}property "{prop_id}" is a number too large to hold')
        result[prop_id] = value
    return result


def config_from_doc(doc: JsonObject) -> StoredConfig:
    service = _scalars(_object(doc, "service", ""), "service ")
    instances: dict[str, StoredInstance] = {}
    for name, entry in _object(doc, "instances", "").items():
        where = f'instance "{name}": '
        if not isinstance(entry, dict):
            raise Unreadable(f"{where}it is {kind_of(entry)} instead of an object")
        factory = entry.get("factory")
        if not isinstance(factory, str) or not factory:
            raise Unreadable(f'{where}"factory" is missing or not text')
        properties = _scalars(_object(entry, "properties", where), where)
        instances[name] = StoredInstance(factory=factory, properties=properties)
    return StoredConfig(service=service, instances=instances,
                        components=_components(doc),
                        generation=text_field(doc, "generation"), revision=revision_of(doc))


def _components(doc: JsonObject) -> dict[str, dict[str, Scalar]]:
    out: dict[str, dict[str, Scalar]] = {}
    for pid, entry in _object(doc, "components", "").items():
        where = f'component "{pid}": '
        if not isinstance(entry, dict):
            raise Unreadable(f"{where}it is {kind_of(entry)} instead of an object")
        out[pid] = _scalars(entry, where)
    return out


@dataclass
class Secrets:
    service: dict[str, Scalar] = field(default_factory=dict)
    instances: dict[str, dict[str, Scalar]] = field(default_factory=dict)
    components: dict[str, dict[str, Scalar]] = field(default_factory=dict)


def secrets_from_doc(doc: JsonObject) -> Secrets:
    service = _scalars(_object(doc, "service", ""), "service ")
    instances: dict[str, dict[str, Scalar]] = {}
    for name, entry in _object(doc, "instances", "").items():
        where = f'instance "{name}": '
        if not isinstance(entry, dict):
            raise Unreadable(f"{where}it is {kind_of(entry)} instead of an object")
        instances[name] = _scalars(entry, where)
    return Secrets(service=service, instances=instances, components=_components(doc))


def _check_scalars(values: dict[str, Scalar], where: str) -> None:
    for prop_id, value in values.items():
        if not isinstance(value, (bool, int, float, str)):
            raise StoreError(
                f'Cannot save {where}property "{prop_id}": {kind_of(value)} cannot be stored; '
                "expected true/false, a number or text."
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise StoreError(f'Cannot save {where}property "{prop_id}": it is not a finite number.')


def split(data: StoredConfig, secret_ids: frozenset[str]) -> tuple[JsonObject, JsonObject]:
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


def encode(doc: JsonObject) -> bytes:
    try:
        return _text_of(doc, ascii_only=False).encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (read from a "\\ud800" escape) has no UTF-8 form; escaping
        # everything keeps it intact.
        return _text_of(doc, ascii_only=True).encode("ascii")


@dataclass
class FileState:
    """One file as found on disk: its bytes (None if absent) and its object, or why not."""

    path: Path
    raw: bytes | None
    doc: JsonObject | None = None
    version: int = SCHEMA_VERSION
    problem: str | None = None


def text_field(doc: JsonObject | None, key: str) -> str:
    value = doc.get(key, "") if doc is not None else ""
    return value if isinstance(value, str) else ""


def revision_of(doc: JsonObject | None) -> int:
    value = doc.get("revision", 0) if doc is not None else 0
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def paired_secrets(config_doc: JsonObject | None,
                    secret_doc: JsonObject) -> tuple[JsonObject, str | None]:
    """The set of secrets that belongs with moorings.json, and why it is not the obvious one.

    moorings.json names the generation of its set of secrets (``"secrets"``). A save that
    changes a secret writes secrets.json first with the new set and the one in force
    (``previous``), then moorings.json naming the new set: whichever of the two renames a crash
    falls between, moorings.json names a set that secrets.json holds.
    """
    wanted = text_field(config_doc, "secrets")
    main = text_field(secret_doc, "generation")
    if main == wanted:
        return secret_doc, None
    previous = secret_doc.get("previous")
    if isinstance(previous, dict) and text_field(previous, "generation") == wanted:
        return previous, "interrupted"
    if not wanted or not main:
        return secret_doc, None  # written before generations existed
    return secret_doc, "mismatch"

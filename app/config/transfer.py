"""The import/export document: every component configuration, keyed by Kura property ids."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.config.model import Scalar, kind_of, validate
from app.errors import FieldError, shown
from app.metatype import INSTANCE_FACTORY_PID, SERVICE_PID, Catalog, FieldType

FORMAT_NAME = "moorings.config"
DOCUMENT_SCHEMA = 2


@dataclass
class ParsedDocument:
    """A checked import document: typed values for every component, or the errors."""

    service: dict[str, Scalar] | None
    instances: dict[str, tuple[str, dict[str, Scalar]]]
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Secret ids that the document did not mention, per instance: the stored value is kept.
    absent_secrets: dict[str, set[str]] = field(default_factory=dict)
    # What the file was ("Moorings JSON", "Kura XML", "Kura JSON"), and the components of a
    # Kura file that are neither a container instance nor the service (their pids).
    source: str = "Moorings JSON"
    skipped: list[str] = field(default_factory=list)
    # The other singleton components (the cloud connection), by pid, and the secret ids each
    # did not mention (the stored value is kept).
    components: dict[str, dict[str, Scalar]] = field(default_factory=dict)
    absent_component_secrets: dict[str, set[str]] = field(default_factory=dict)


def _doc_error(message: str, component: str | None = None) -> FieldError:
    return FieldError("document", "Document", message, None, component)


# Longer integers are refused unread: no property holds one (Kura's widest is a 64-bit Long),
# and turning thousands of digits into a number is slow, or refused by Python itself.
MAX_INTEGER_DIGITS = 100
_NUMBER_EXPECTED = "expected a finite number such as 5 or 1.5"


@dataclass(frozen=True)
class _BadNumber:
    """A number JSON text can hold but a configuration cannot; found after parsing."""

    problem: str


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once."""

    duplicates: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    result = _Object()
    result.duplicates = []
    for key, value in pairs:
        if key in result and key not in result.duplicates:
            result.duplicates.append(key)
        result[key] = value
    return result


def _integer(text: str) -> int | _BadNumber:
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        return _BadNumber(f"is a whole number of {digits} digits, more than any property can "
                          f"hold; {_NUMBER_EXPECTED}, of at most 19 digits")
    return int(text)


def _decimal(text: str) -> float | _BadNumber:
    number = float(text)
    if not math.isfinite(number):
        shown = text if len(text) <= 20 else text[:20] + "…"
        return _BadNumber(f"is {shown}, too large for a number; {_NUMBER_EXPECTED}")
    return number


def _constant(name: str) -> _BadNumber:
    return _BadNumber(f"is {name}, which is not a number JSON allows; {_NUMBER_EXPECTED}")


JsonPath = tuple[str | int, ...]  # keys, and the positions of list items


def _segment(path: JsonPath, i: int) -> str:
    part = path[i]
    if isinstance(part, int):
        return f"[{part}]"
    structural = (i == 0 and part in ("service", "instances")) or (
        i == 2 and path[0] == "instances" and part == "properties")
    return part if structural else json.dumps(part, ensure_ascii=False)


def _where(path: JsonPath) -> str:
    if not path:
        return "at the top level"
    text = ""
    for i in range(len(path)):
        segment = _segment(path, i)
        text += segment if segment.startswith("[") or not text else f" → {segment}"
    return f"in {shown(text)}"


def _component_of(path: JsonPath) -> str | None:
    if path[:1] == ("service",):
        return "service"
    if len(path) >= 2 and path[0] == "instances" and isinstance(path[1], str):
        return path[1]
    return None


def _structure_errors(doc: object) -> list[FieldError]:
    """Duplicate keys and unusable numbers anywhere, each with where it is (no recursion: the
    document may be nested as deeply as the parser allows)."""
    errors: list[FieldError] = []
    todo: list[tuple[JsonPath, object]] = [((), doc)]
    while todo:
        path, value = todo.pop()
        if isinstance(value, _BadNumber):
            what = _where(path).removeprefix("in ") if path else "the document"
            errors.append(_doc_error(f"{what} {value.problem}.", _component_of(path)))
        elif isinstance(value, dict):
            for key in getattr(value, "duplicates", ()):
                errors.append(_doc_error(
                    f"the key {shown(json.dumps(key, ensure_ascii=False))} appears twice "
                    f"{_where(path)}; expected each key once (JSON keeps only the last value, "
                    "so the other would be lost without a word).", _component_of((*path, key))))
            todo.extend(((*path, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            todo.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))
    return errors


def _load(text: str) -> tuple[object, list[FieldError]]:
    try:
        doc = json.loads(text, object_pairs_hook=_object, parse_int=_integer,
                         parse_float=_decimal, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        return None, [_doc_error(
            f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).")]
    except RecursionError:
        return None, [_doc_error(
            "The file is nested too deeply to be a configuration; expected objects a few "
            "levels deep (instances, then each instance, then its properties).")]
    return doc, _structure_errors(doc)


def load_json(text: str) -> tuple[object, list[FieldError]]:
    """Strict JSON (no duplicate keys, no NaN, no number a configuration cannot hold) and every
    error found in it, each with where it is; the value is None when the text is not JSON."""
    return _load(text)


def parse_document(text: str, catalog: Catalog) -> ParsedDocument:
    """Check a whole document before anything is written; collect every error, not the first.

    Whatever this accepts, the store can write as it is: ``config check`` and ``config import``
    give the same verdict for every document.
    """
    doc, errors = _load(text)
    if errors:
        return ParsedDocument(None, {}, errors=list(errors))
    return check_document(doc, catalog)


def check_document(doc: object, catalog: Catalog) -> ParsedDocument:
    """The checks of :func:`parse_document` on an already loaded (strict) JSON document."""
    out = ParsedDocument(None, {})
    if not isinstance(doc, dict):
        out.errors.append(_doc_error("The file must hold a JSON object with \"service\" and/or "
                                     "\"instances\"."))
        return out
    schema = doc.get("schema", DOCUMENT_SCHEMA)
    if isinstance(schema, bool) or not isinstance(schema, int) or schema < 1:
        out.errors.append(_doc_error(
            f"\"schema\" is {_scalar_or_kind(schema)}; expected a whole number such as "
            f"{DOCUMENT_SCHEMA}, the version of the document's format."))
        return out
    if schema > DOCUMENT_SCHEMA:
        out.errors.append(_doc_error(
            f"The file has schema {schema!r}, newer than this Moorings reads "
            f"({DOCUMENT_SCHEMA}); export it again with this version or upgrade Moorings."))
        return out
    unknown = set(doc) - {"format", "schema", "service", "instances", "components",
                          SERVICE_PID}
    for key in sorted(unknown):
        out.errors.append(_doc_error(
            f"Unknown top-level key {key!r}; expected \"service\" and \"instances\"."))
    check_components(doc.get("components", {}), catalog, out)

    service_raw = doc.get("service", doc.get(SERVICE_PID))
    if service_raw is not None:
        if not isinstance(service_raw, dict):
            out.errors.append(_doc_error("\"service\" must be an object of property ids to "
                                         "values.", "service"))
        else:
            check_service(service_raw, catalog, out)

    instances_raw = doc.get("instances", {})
    if not isinstance(instances_raw, dict):
        out.errors.append(_doc_error("\"instances\" must be an object keyed by instance name."))
        return out
    for name, entry in instances_raw.items():
        if not isinstance(entry, dict):
            out.errors.append(_doc_error("Each instance must be an object of property ids to "
                                         "values.", name))
            continue
        factory = entry.get("factoryPid", INSTANCE_FACTORY_PID)
        props = entry.get("properties", entry if "properties" not in entry else None)
        if not isinstance(props, dict):
            out.errors.append(_doc_error("\"properties\" must be an object.", name))
            continue
        props = {k: v for k, v in props.items() if k != "factoryPid"}
        if not isinstance(factory, str):
            out.errors.append(_doc_error(
                f"factoryPid must be text, not {_scalar_or_kind(factory)}; expected the PID "
                f"of a factory, such as {INSTANCE_FACTORY_PID}.", name))
            continue
        check_instance(name, factory, props, catalog, out)
    return out


def check_service(values: Mapping[str, object], catalog: Catalog, out: ParsedDocument) -> None:
    """Validate the service's properties into ``out`` (its values, errors and warnings)."""
    props, types = _split_kura_types(values, "service", out)
    result = validate(catalog.by_pid(SERVICE_PID), props, None)
    out.errors.extend(
        FieldError(e.field_id, e.field_name, e.message, e.item, "service")
        for e in result.errors)
    out.warnings.extend(f"service: {w}" for w in result.warnings)
    out.errors.extend(_kura_type_errors(types, result.extras, "service"))
    out.service = {**result.values, **result.extras, **_types_entry(types)}


def check_components(raw: object, catalog: Catalog, out: ParsedDocument) -> None:
    """Validate ``"components"``: the other singletons' properties (the cloud connection), by
    pid."""
    if not isinstance(raw, dict):
        out.errors.append(_doc_error("\"components\" must be an object keyed by component pid."))
        return
    known = [c.pid for c in catalog.singletons() if c.pid and c.pid != SERVICE_PID]
    for pid, props in raw.items():
        if pid not in known:
            out.errors.append(_doc_error(f"Unknown component {pid!r}; expected one of "
                                         f"{', '.join(sorted(known))}.", pid))
            continue
        if not isinstance(props, dict):
            out.errors.append(_doc_error("A component must be an object of property ids to "
                                         "values.", pid))
            continue
        desc = catalog.by_pid(pid)
        result = validate(desc, props, None)
        out.errors.extend(FieldError(e.field_id, e.field_name, e.message, e.item, pid)
                          for e in result.errors)
        out.warnings.extend(f"{pid}: {w}" for w in result.warnings)
        out.components[pid] = {**result.values, **result.extras}
        missing = {sid for sid in desc.secret_ids() if sid not in props}
        if missing:
            out.absent_component_secrets[pid] = missing


def check_instance(name: str, factory: str, values: Mapping[str, object], catalog: Catalog,
                   out: ParsedDocument) -> None:
    """Validate one instance's properties into ``out``, as import would store them."""
    try:
        component = catalog.by_pid(factory)
    except KeyError:
        known = ", ".join(c.factory_pid or "" for c in catalog.factories())
        out.errors.append(_doc_error(f"Unknown factory {factory!r}; expected one of {known}.",
                                     name))
        return
    if not component.is_factory:
        out.errors.append(_doc_error(f"{factory} is not a factory.", name))
        return
    props, types = _split_kura_types(values, name, out)
    result = validate(component, props, name)
    out.errors.extend(result.errors)
    out.warnings.extend(result.warnings)
    out.errors.extend(_kura_type_errors(types, result.extras, name))
    out.instances[name] = (str(factory), {**result.values, **result.extras,
                                          **_types_entry(types)})
    missing = {sid for sid in component.secret_ids() if sid not in props}
    if missing:
        out.absent_secrets[name] = missing


# -- the Kura types of properties no field describes -------------------------------------------
# A property Moorings has no field for is kept as one value; its Kura type follows from the
# value (true/false: Boolean, text: String, a whole number: Integer, or Long beyond Integer's
# range, a number: Double) unless this entry names another one, as a JSON object of property id
# to type ("Long", "Float", "String[]" for an array, whose value is then a JSON array as text).
# The Kura codec writes it when it reads such a property, so that writing Kura's files again
# gives Kura back the types it wrote.
KURA_TYPES_KEY = "moorings.kura.types"


def _split_kura_types(values: Mapping[str, object], component: str,
                      out: ParsedDocument) -> tuple[dict[str, object], dict[str, str]]:
    props = {k: v for k, v in values.items() if k != KURA_TYPES_KEY}
    if KURA_TYPES_KEY not in values:
        return props, {}
    raw = values[KURA_TYPES_KEY]
    types: object = None
    if isinstance(raw, str):
        try:
            types = json.loads(raw)
        except ValueError:
            types = None
    if not isinstance(types, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in types.items()):
        out.errors.append(FieldError(
            KURA_TYPES_KEY, "Kura types", "expected text holding a JSON object of property id to "
            "Kura type, such as {\"container.x\": \"Long\"}.", None, component))
        return props, {}
    return props, dict(types)


def _kura_type_errors(types: Mapping[str, str], extras: Mapping[str, Scalar],
                      component: str) -> list[FieldError]:
    errors: list[FieldError] = []
    allowed = {t.value for t in FieldType} - {FieldType.PASSWORD.value}
    for key, kind in types.items():
        base, array = (kind[:-2], True) if kind.endswith("[]") else (kind, False)
        problem = None
        if base not in allowed:
            problem = (f"gives {key} the type {kind!r}; expected one of "
                       f"{', '.join(sorted(allowed))}, each optionally followed by [].")
        elif key not in extras:
            problem = (f"names {key}, which is not a property of this component that no field "
                       "describes; expected only such properties.")
        elif array and not _is_json_array(extras[key]):
            problem = (f"says {key} is an array, but its value is not a JSON array of values "
                       "as text, such as [\"a\", \"b\"].")
        if problem:
            errors.append(FieldError(KURA_TYPES_KEY, "Kura types", f"The entry {problem}", None,
                                     component))
    return errors


def _is_json_array(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        items = json.loads(value)
    except ValueError:
        return False
    return isinstance(items, list) and all(
        item is None or isinstance(item, (bool, int, float, str)) for item in items)


def _types_entry(types: Mapping[str, str]) -> dict[str, Scalar]:
    if not types:
        return {}
    return {KURA_TYPES_KEY: json.dumps(dict(sorted(types.items())), ensure_ascii=False)}


def imported_values(document: ParsedDocument, name: str,
                    stored: Mapping[str, Scalar] | None) -> dict[str, Scalar]:
    """The values an import stores for instance ``name`` over its ``stored`` properties (None:
    a new instance): the document's, with each secret the document does not give kept."""
    _, values = document.instances[name]
    props = dict(values)
    for sid in document.absent_secrets.get(name, set()):
        if stored is not None and sid in stored:
            props[sid] = stored[sid]
    return props


def _scalar_or_kind(value: object) -> str:
    if isinstance(value, (bool, int, float, str)):
        return shown(json.dumps(value, ensure_ascii=False))
    return kind_of(value)


def build_document(
    service: Mapping[str, Scalar],
    instances: Mapping[str, tuple[str, Mapping[str, Scalar]]],
    catalog: Catalog,
    *,
    include_secrets: bool = False,
    components: Mapping[str, Mapping[str, Scalar]] | None = None,
) -> dict[str, Any]:
    """The export document; secret values are left out unless asked for."""
    out_instances: dict[str, Any] = {}
    for name in sorted(instances):
        factory, props = instances[name]
        secrets = catalog.by_pid(factory).secret_ids()
        kept = {k: v for k, v in props.items() if include_secrets or k not in secrets}
        out_instances[name] = {"factoryPid": factory, "properties": dict(sorted(kept.items()))}
    doc: dict[str, Any] = {
        "format": FORMAT_NAME,
        "schema": DOCUMENT_SCHEMA,
        "service": dict(sorted(service.items())),
        "instances": out_instances,
    }
    if components:
        out_components: dict[str, Any] = {}
        for pid in sorted(components):
            secrets = catalog.by_pid(pid).secret_ids()
            out_components[pid] = {k: v for k, v in sorted(components[pid].items())
                                   if include_secrets or k not in secrets}
        doc["components"] = out_components
    return doc

"""The configuration codec: any file Moorings reads (its JSON, Kura XML, Kura JSON) into one checked
document and a preview of its import, and the stored configuration out as Kura XML or Kura JSON.

Pure (no Qt, no engine, no disk): the command line, the window and the remote API call it with
bytes and get sentences back. The rules are Kura's restore rules (kura-remote.md §2.3), with
Moorings' care where Kura silently loses something: nothing found, an unknown type, a value Kura
would drop or misread, each is reported with the instance and the property.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from enum import Enum

from app.config.documents import MAX_DOCUMENT_BYTES
from app.config.import_plan import ConfigView, ImportPlan, plan_import, skipped_line
from app.config.kura_values import KURA_JSON, Problem, Refused, convert
from app.config.kura_wire import (
    CodecError,
    KuraComponent,
    KuraProperty,
    OutAD,
    OutComponent,
    OutOCD,
    OutOption,
    OutProperty,
    is_kura_json,
    not_xml_char,
    read_json,
    read_xml,
    write_json,
    write_xml,
)
from app.config.model import BOOKKEEPING_KEYS, Scalar
from app.config.transfer import (
    KURA_TYPES_KEY,
    ParsedDocument,
    check_document,
    check_instance,
    check_service,
    load_json,
)
from app.errors import FieldError, shown
from app.metatype import SERVICE_PID, Catalog, ComponentDescriptor, FieldDescriptor, FieldType

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "CodecError",
    "ConfigView",
    "ExportFormat",
    "ImportPlan",
    "decode_text",
    "export_configuration",
    "export_view",
    "plan_import",
    "read_components",
    "read_configuration",
    "skipped_line",
]

MOORINGS_JSON = "Moorings JSON"
KURA_XML = "Kura XML"
_FACTORY_KEY = "service.factoryPid"
_NAME_KEY = "kura.service.pid"
_EXPECTED_FILE = ("expected a Moorings JSON export, a Kura snapshot (XML or JSON) or a Kura "
                  "configuration body")


class ExportFormat(str, Enum):
    """The formats ``moorings config export --format`` writes."""

    MOORINGS_JSON = "moorings-json"
    KURA_XML = "kura-xml"
    KURA_JSON = "kura-json"


# -- bytes to text -------------------------------------------------------------------------

_KURA_ENCRYPTED = re.compile(r"[A-Za-z0-9+/]{16}-[A-Za-z0-9+/=\s]{16,}")


def decode_text(data: bytes) -> str:
    """The text of a configuration file (UTF-8, a byte-order mark allowed), or CodecError with a
    sentence saying why the bytes are not one (too big, binary, compressed, UTF-16, not UTF-8)."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CodecError(f"The file holds more than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB, "
                         f"far more than a configuration; {_EXPECTED_FILE}.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CodecError("The file is UTF-16 text; Kura and Moorings write UTF-8: save it as "
                         "UTF-8.")
    if data.startswith(b"\x1f\x8b") or data.startswith(b"PK\x03\x04"):
        raise CodecError(f"The file is compressed (gzip or zip); unpack it and import the "
                         f"configuration inside: {_EXPECTED_FILE}.")
    if b"\0" in data:
        raise CodecError(f"The file holds NUL bytes: it is a binary file, not a text "
                         f"configuration; {_EXPECTED_FILE}.")
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        raise CodecError(f"The file is not UTF-8 text (byte 0x{data[offset]:02x} at offset "
                         f"{offset}); expected a configuration file in UTF-8.") from None


def _doc_error(message: str, component: str | None = None) -> FieldError:
    return FieldError("document", "Document", message, None, component)


# -- reading -------------------------------------------------------------------------------

def read_configuration(data: bytes | str, catalog: Catalog) -> ParsedDocument:
    """Read a file of any supported format, found by its content, into one checked document.

    Never raises: every problem is an error of the document, by instance and field, and a
    document with errors must not be imported. ``config check``, ``config import`` and the
    window all read through here, so they give one verdict for every file.
    """
    try:
        text = decode_text(data) if isinstance(data, bytes) else data
        return _read_text(text, catalog)
    except CodecError as exc:
        return ParsedDocument(None, {}, errors=[_doc_error(str(exc))], source=_guess(data))
    except RecursionError:
        return ParsedDocument(None, {}, errors=[_doc_error(
            "The file is nested too deeply to be a configuration.")])


def _guess(data: bytes | str) -> str:
    head = data[:200].lstrip() if isinstance(data, str) else data[:200].lstrip().decode(
        "utf-8", "replace").lstrip("\ufeff")
    return KURA_XML if head.startswith("<") else MOORINGS_JSON


def _read_text(text: str, catalog: Catalog) -> ParsedDocument:
    body = text.lstrip().lstrip("\ufeff").lstrip()
    if body.startswith("<"):
        return _from_components(read_xml(text), KURA_XML, catalog)
    if body.startswith(("{", "[")) or not body:
        doc, errors = load_json(text)
        if errors:
            source = KURA_JSON if '"configs"' in text[:4096] else MOORINGS_JSON
            return ParsedDocument(None, {}, errors=list(errors), source=source)
        if is_kura_json(doc):
            return _from_components(read_json(doc), KURA_JSON, catalog)
        return check_document(doc, catalog)
    if _KURA_ENCRYPTED.fullmatch(body.strip()):
        raise CodecError(
            "The file looks like a snapshot as Kura keeps it on disk (snapshot_<id>.xml), "
            "encrypted with that gateway's own key, which Moorings cannot read. On the Kura "
            "gateway, download the snapshot from the web UI (Device, Snapshots, Download, as "
            "XML or JSON) and import that file.")
    raise CodecError(f"The file is neither JSON nor XML; {_EXPECTED_FILE}.")


class _Reading:
    """What reading one Kura file collects besides the checked values."""

    def __init__(self, source: str) -> None:
        self.out = ParsedDocument(None, {}, source=source)
        self.service: dict[str, object] | None = None
        self.instances: dict[str, tuple[str, dict[str, object]]] = {}
        # Per component, the properties that could not be read: the checks that follow would
        # only repeat them (as a missing value), so their errors there are left out.
        self.failed: dict[str, set[str]] = {}

    def error(self, component: str | None, field_id: str, field_name: str, message: str) -> None:
        self.out.errors.append(FieldError(field_id, field_name, message, None, component))

    def warn(self, component: str, message: str) -> None:
        self.out.warnings.append(f"{shown(component)}: {message}")


def read_components(components: list[KuraComponent], catalog: Catalog) -> ParsedDocument:
    """:func:`read_configuration` of components already read from Kura XML (CONF-V1's PUT
    body, whose components it needs to see itself first)."""
    return _from_components(components, KURA_XML, catalog)


def _from_components(components: list[KuraComponent], source: str,
                     catalog: Catalog) -> ParsedDocument:
    reading = _Reading(source)
    factories = {c.factory_pid: c for c in catalog.factories() if c.factory_pid}
    singletons = {c.pid: c for c in catalog.singletons() if c.pid}
    seen: dict[str, int] = {}
    for comp in components:
        factory = _factory_of(comp)
        if factory in factories:
            _read_instance(comp, factories[factory], reading, seen)
        elif factory is None and comp.pid in singletons:
            if comp.pid != SERVICE_PID:
                reading.out.skipped.append(comp.pid)
                continue
            _read_service(comp, singletons[comp.pid], reading, seen)
        else:
            reading.out.skipped.append(comp.pid or "(no pid)")
    read_errors = len(reading.out.errors)
    if reading.service is not None:
        check_service(reading.service, catalog, reading.out)
    for name, (factory, props) in reading.instances.items():
        check_instance(name, factory, props, catalog, reading.out)
    checked = reading.out.errors[read_errors:]
    reading.out.errors[read_errors:] = [
        e for e in checked if e.field_id not in reading.failed.get(e.component or "", set())]
    if not components:
        reading.out.errors.append(_doc_error(
            f"The file holds no configuration at all (no esf:configuration, no config): nothing "
            f"to import; {_EXPECTED_FILE}."))
    elif reading.service is None and not reading.instances and not reading.out.errors:
        reading.out.errors.append(_doc_error(
            "The file holds no container instance and no ContainerOrchestrationService "
            f"configuration: nothing to import ({skipped_line(reading.out.skipped)})."))
    return reading.out


def _factory_of(comp: KuraComponent) -> str | None:
    if comp.factory_pid is not None:
        return comp.factory_pid
    for prop in comp.properties:
        if prop.name == _FACTORY_KEY and prop.values and isinstance(prop.values[0], str):
            return prop.values[0]
    return None


def _claim(comp: KuraComponent, name: str, reading: _Reading, seen: dict[str, int]) -> bool:
    seen[name] = seen.get(name, 0) + 1
    if seen[name] == 2:
        reading.error(name, "document", "Document",
                      f"The file has more than one configuration with pid {name}; expected "
                      "each once (Kura would keep only the last, without a word).")
    for problem in comp.problems:
        reading.error(name, "document", "Document", f"This configuration cannot be read: "
                      f"{problem}.")
    return seen[name] == 1 and not comp.problems


def _read_instance(comp: KuraComponent, desc: ComponentDescriptor, reading: _Reading,
                   seen: dict[str, int]) -> None:
    name = comp.pid
    if not name:
        reading.error(None, "document", "Document", "A container instance's configuration has "
                      "an empty pid; expected the instance's name (the container's name).")
        return
    if not _claim(comp, name, reading, seen):
        return
    for prop in comp.properties:
        if prop.name == _NAME_KEY and prop.values and prop.values[0] != name:
            other = prop.values[0] if isinstance(prop.values[0], str) else repr(prop.values[0])
            reading.warn(name, f"kura.service.pid is {shown(other[:80])} but the configuration's "
                         f"pid is {shown(name)}; Kura names the instance by the pid, and so "
                         "does Moorings.")
    reading.instances[name] = (desc.factory_pid or "", _properties(comp, desc, name, reading))


def _read_service(comp: KuraComponent, desc: ComponentDescriptor, reading: _Reading,
                  seen: dict[str, int]) -> None:
    if not _claim(comp, "service", reading, seen):
        return
    reading.service = _properties(comp, desc, "service", reading)


def _properties(comp: KuraComponent, desc: ComponentDescriptor, name: str,
                reading: _Reading) -> dict[str, object]:
    """The component's values as the checks take them (keyed by property id); each property
    that cannot be read is an error, and is named in ``reading.failed``."""
    fields = {f.id: f for f in desc.fields}
    values: dict[str, object] = {}
    types: dict[str, str] = {}
    failed = reading.failed.setdefault(name, set())
    counted: dict[str, int] = {}
    for prop in comp.properties:
        counted[prop.name] = counted.get(prop.name, 0) + 1
        if counted[prop.name] == 2:
            reading.error(name, prop.name or "document", "Property",
                          f"{shown(prop.name)} appears twice; expected each property once (Kura "
                          "would keep only the last).")
            failed.add(prop.name)
    for prop in comp.properties:
        if counted.get(prop.name, 0) > 1:
            continue
        if not prop.name:
            reading.error(name, "document", "Property", "A property has no name; expected the "
                          "property id, such as container.image.")
            continue
        if prop.name in BOOKKEEPING_KEYS:
            continue
        if prop.name == KURA_TYPES_KEY:
            reading.error(name, prop.name, "Property", f"{KURA_TYPES_KEY} is Moorings' own "
                          "record and cannot come from a Kura file.")
            continue
        desc_field = fields.get(prop.name)
        label = desc_field.name if desc_field else "Unknown property"
        try:
            value = convert(prop, reading.out.source)
        except Refused as refusal:
            reading.warn(name, f"{label} ({prop.name}) was not imported: {refusal}")
            continue
        except Problem as problem:
            message = str(problem)
            if (desc_field is not None and desc_field.is_secret) or \
                    prop.type is FieldType.PASSWORD:
                # Never a password's text in a message, not even a part of it.
                message = (f"cannot be read as a {prop.type_text or 'String'} value (the value "
                           f"is not shown: it is a password); expected a Password.")
            reading.error(name, prop.name, label, message)
            failed.add(prop.name)
            continue
        readable = (_known(desc_field, prop, value, values, name, reading) if desc_field
                    else _unknown(prop, value, values, types, name, reading))
        if not readable:
            failed.add(prop.name)
    if types:
        values[KURA_TYPES_KEY] = json.dumps(dict(sorted(types.items())), ensure_ascii=False)
    return values


def _known(desc: FieldDescriptor, prop: KuraProperty, value: object, values: dict[str, object],
           name: str, reading: _Reading) -> bool:
    if value is None:
        return True  # JSON null: not given, so the default (or the stored secret) applies
    if isinstance(value, list):
        if not value:
            return True  # an empty array: no value (Kura drops it when it writes)
        reading.error(name, desc.id, desc.name,
                      f"is an array of {len(value)} values; expected one value (Kura's "
                      "container would not use an array here).")
        return False
    if prop.type is not desc.type and not (prop.type is FieldType.PASSWORD and desc.is_secret):
        written = prop.type_text or "no type"
        reading.warn(name, f"{desc.name} ({desc.id}) is written as {written} where the field is "
                     f"{desc.type.value}; Kura's container would not use it (it reads a "
                     f"{desc.type.value} only) and take its default. Moorings converts it.")
    values[desc.id] = value
    return True


# The Kura type a property Moorings has no field for gets back from its stored value alone.
def natural_type(value: Scalar) -> FieldType:
    if isinstance(value, bool):
        return FieldType.BOOLEAN
    if isinstance(value, int):
        lo, hi = FieldType.INTEGER.integral_limits
        return FieldType.INTEGER if lo <= value <= hi else FieldType.LONG
    if isinstance(value, float):
        return FieldType.DOUBLE
    return FieldType.STRING


def _unknown(prop: KuraProperty, value: object, values: dict[str, object],
             types: dict[str, str], name: str, reading: _Reading) -> bool:
    kind = prop.type or FieldType.STRING
    if kind is FieldType.PASSWORD:
        reading.warn(name, f"{shown(prop.name)} is a password that no Moorings field uses; it "
                     "was not imported (Moorings keeps only the passwords it uses, in its "
                     "owner-only secrets file).")
        return True
    if value is None:
        return True
    if isinstance(value, list):
        values[prop.name] = json.dumps(value, ensure_ascii=False)
        types[prop.name] = f"{kind.value}[]"
        return True
    if value == "" and kind is not FieldType.STRING:
        reading.error(name, prop.name, "Unknown property",
                      f"is empty; expected a {kind.value} value.")
        return False
    assert isinstance(value, (bool, int, float, str))
    if natural_type(value) is not kind:
        types[prop.name] = kind.value
    values[prop.name] = value
    return True


# -- writing ---------------------------------------------------------------------------------

def export_configuration(
    fmt: ExportFormat,
    service: Mapping[str, Scalar],
    instances: Mapping[str, tuple[str, Mapping[str, Scalar]]],
    catalog: Catalog,
    *,
    include_secrets: bool = False,
    singletons: Mapping[str, Mapping[str, Scalar]] | None = None,
) -> bytes:
    """The configuration as a file of ``fmt``; passwords only with ``include_secrets``.
    ``singletons``, the other components by pid (the cloud connection), go into Moorings JSON
    only: Kura has no such component.

    Raises CodecError (naming the instance and property) for a value the format cannot carry.
    """
    if fmt is ExportFormat.MOORINGS_JSON:
        from app.config.transfer import build_document

        doc = build_document(service, instances, catalog, include_secrets=include_secrets,
                             components=singletons)
        return (json.dumps(doc, indent=2, sort_keys=False) + "\n").encode("utf-8")
    components = [_out_component(SERVICE_PID, None, service, catalog.by_pid(SERVICE_PID),
                                 include_secrets)]
    for name in sorted(instances):
        factory, values = instances[name]
        components.append(_out_component(name, factory, values, catalog.by_pid(factory),
                                         include_secrets))
    if fmt is ExportFormat.KURA_XML:
        _check_xml(components)
        return write_xml(components).encode("utf-8")
    return write_json(components).encode("utf-8")


def export_view(fmt: ExportFormat, current: ConfigView, catalog: Catalog, *,
                include_secrets: bool = False) -> bytes:
    """:func:`export_configuration` of the configuration in force (the repository)."""
    instances = {i.name: (i.factory, dict(i.values)) for i in current.instances()}
    stored = getattr(current, "stored_components", None)
    return export_configuration(fmt, current.service_values(), instances, catalog,
                                include_secrets=include_secrets,
                                singletons=stored() if callable(stored) else None)


def component_out(pid: str, factory: str | None, values: Mapping[str, Scalar],
                  desc: ComponentDescriptor, *, include_secrets: bool = False,
                  with_ocd: bool = False, password_stand_in: str | None = None) -> OutComponent:
    """One component in Kura's form (what CONF-V1 sends): its properties, its ``ocd:OCD``
    generated from the metatype with ``with_ocd``. Passwords only with ``include_secrets``;
    else, with ``password_stand_in``, each stored password is sent as that text instead (and
    an empty one as empty), so that a console that sends back what it read keeps it."""
    out = _out_component(pid, factory, values, desc, include_secrets)
    props = list(out.properties)
    if password_stand_in is not None and not include_secrets:
        for f in desc.fields:
            if f.is_secret:
                stored = str(values.get(f.id, "") or "")
                props.append(_out(f.id, FieldType.PASSWORD,
                                  password_stand_in if stored else ""))
    return OutComponent(pid, props, _ocd(desc) if with_ocd else None)


def _ocd(desc: ComponentDescriptor) -> OutOCD:
    ads = [OutAD(f.id, f.name, f.type, f.cardinality, f.required, f.default, f.description,
                 f.min, f.max, tuple(OutOption(o.label, o.value) for o in f.options))
           for f in desc.fields]
    return OutOCD(desc.id, desc.name, desc.description, ads)


def write_components(components: Sequence[OutComponent]) -> str:
    """Kura XML of the components (CodecError for a value XML cannot carry)."""
    _check_xml(components)
    return write_xml(components)


def _out_component(pid: str, factory: str | None, values: Mapping[str, Scalar],
                   desc: ComponentDescriptor, include_secrets: bool) -> OutComponent:
    props: list[OutProperty] = []
    if factory is not None:
        props.append(_out(_FACTORY_KEY, FieldType.STRING, factory))
    else:
        props.append(_out("service.pid", FieldType.STRING, pid))
    props.append(_out(_NAME_KEY, FieldType.STRING, pid))
    for f in desc.fields:
        if f.id not in values or (f.is_secret and not include_secrets):
            continue
        value = values[f.id]
        if value == "" and f.type not in (FieldType.STRING, FieldType.PASSWORD):
            continue  # an empty number is no value: Kura writes no property for it
        props.append(_out(f.id, f.type, value))
    types: dict[str, str] = {}
    raw_types = values.get(KURA_TYPES_KEY)
    if isinstance(raw_types, str):
        try:
            loaded = json.loads(raw_types)
        except ValueError:
            loaded = {}
        types = loaded if isinstance(loaded, dict) else {}
    known = set(desc.field_ids())
    for key in sorted(values):
        if key in known or key == KURA_TYPES_KEY or key in BOOKKEEPING_KEYS:
            continue
        value = values[key]
        kind_text = types.get(key)
        if isinstance(kind_text, str) and kind_text.endswith("[]") and isinstance(value, str):
            kind = FieldType(kind_text[:-2])
            items = json.loads(value)
            props.append(OutProperty(key, kind, tuple(_kura_text(kind, i) for i in items
                                                      if i is not None), items, array=True))
            continue
        kind = FieldType(kind_text) if isinstance(kind_text, str) else natural_type(value)
        props.append(_out(key, kind, value))
    return OutComponent(pid, props)


def _out(name: str, kind: FieldType, value: Scalar) -> OutProperty:
    if kind is FieldType.PASSWORD:
        text = str(value)
        return OutProperty(name, kind, (base64.b64encode(text.encode("utf-8")).decode("ascii"),),
                           text)
    json_value: object = value
    if kind.is_integral and isinstance(value, (int, float)) and not isinstance(value, bool):
        json_value = int(value)
    elif kind.is_decimal and isinstance(value, (int, float)) and not isinstance(value, bool):
        json_value = float(value)
    return OutProperty(name, kind, (_kura_text(kind, value),), json_value)


def _kura_text(kind: FieldType, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if not value.is_integer() or kind.is_decimal else str(int(value))
    return str(value)


def _check_xml(components: Sequence[OutComponent]) -> None:
    for comp in components:
        for prop in comp.properties:
            for text in (comp.pid, prop.name, *prop.values):
                bad = not_xml_char(text)
                if bad is not None:
                    secret = prop.type is FieldType.PASSWORD
                    what = "the password" if secret else shown(prop.name)
                    raise CodecError(
                        f"{shown(comp.pid)}: {what} holds the character U+{ord(bad):04X}, "
                        "which XML cannot carry; export as Moorings JSON or Kura JSON instead, "
                        "or change the value.")

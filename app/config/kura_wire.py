"""Kura's two wire forms of component configurations: esf XML and REST v2 JSON, read and written.

The XML is ``esf:configurations`` as Kura's configuration service, its web UI and Kapua write it
(kura-remote.md §1.5); the JSON is Kura's REST configuration v2 and web UI snapshot form (§4).
Reading keeps each property as written (its type, array and encrypted flags and raw values):
converting values is the codec's job (app/config/kura.py), which knows which components it
uses. Only a document that cannot be read at all raises, and only :class:`CodecError`.
"""

from __future__ import annotations

import json
import re
import xml.sax
import xml.sax.handler
import xml.sax.xmlreader
from collections.abc import Sequence
from dataclasses import dataclass, field

import defusedxml
import defusedxml.sax

from app.metatype import FieldType

ESF_NS = "http://eurotech.com/esf/2.0"
OCD_NS = "http://www.osgi.org/xmlns/metatype/v1.2.0"

# Far more than any gateway's whole configuration (a Kura device with its metatype is some
# ten thousand elements); the bound keeps a hostile file from taking the machine's memory.
MAX_ELEMENTS = 200_000
MAX_DEPTH = 32

_CONFIGURATION = "esf:configuration"
_PROPERTIES = "esf:properties"
_PROPERTY = "esf:property"
_VALUE = "esf:value"

XML_TYPES = {t.value: t for t in FieldType}   # "String", "Long", ... (case as Kura writes)
JSON_TYPES = {t.name: t for t in FieldType}   # "STRING", "LONG", ...


class CodecError(ValueError):
    """A file that cannot be read as a configuration; the message is a sentence for a person."""


@dataclass(frozen=True)
class KuraProperty:
    """One property as written: ``values`` holds the text of each ``esf:value`` (XML) or each
    JSON value (JSON, None for null); ``problem`` says what makes it unreadable, if anything."""

    name: str
    type: FieldType | None
    type_text: str | None
    array: bool
    encrypted: bool
    values: tuple[object, ...]
    problem: str | None = None


@dataclass
class KuraComponent:
    """One ``esf:configuration`` (or one JSON config): its pid and properties, in file order."""

    pid: str
    properties: list[KuraProperty] = field(default_factory=list)
    # Beside the pid only in CONF-V2's create body; in snapshots it is a property.
    factory_pid: str | None = None
    problems: list[str] = field(default_factory=list)


# -- XML -----------------------------------------------------------------------------------

_DECLARATION = re.compile(
    r"<\?xml\s+version\s*=\s*([\"'])[^\"']*\1(?:\s+encoding\s*=\s*([\"'])([^\"']*)\2)?")


def _check_declared_encoding(text: str) -> None:
    match = _DECLARATION.match(text)
    if match is None or match.group(3) is None:
        return
    declared = match.group(3)
    if declared.strip().lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise CodecError(
            f"The file declares the encoding {declared[:40]!r}; Kura writes and reads its XML "
            "in UTF-8: save the file as UTF-8 with encoding=\"UTF-8\" in its first line.")


class _Abort(Exception):
    """Stops the parser from inside a handler, with the sentence to report."""


class _Handler(xml.sax.handler.ContentHandler):
    """Builds the esf components from SAX events, by literal element names (as Kura does)."""

    def __init__(self) -> None:
        super().__init__()
        self.components: list[KuraComponent] = []
        self.count = 0
        self.stack: list[str] = []
        self.other_prefixes: set[str] = set()
        self.root: str | None = None
        self._config: KuraComponent | None = None
        self._config_depth = 0
        self._in_properties = False
        self._properties_seen = 0
        self._prop: dict[str, object] | None = None
        self._values: list[str] = []
        self._text: list[str] | None = None
        self._prop_problem: str | None = None

    def startElement(self, name: str, attrs: xml.sax.xmlreader.AttributesImpl) -> None:
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise _Abort(f"The file has more than {MAX_ELEMENTS} elements, far more than a "
                         "gateway's configuration; expected a Kura snapshot or configuration.")
        if len(self.stack) >= MAX_DEPTH:
            raise _Abort(f"The file is nested more than {MAX_DEPTH} elements deep; a Kura "
                         "configuration is five deep.")
        if self.root is None:
            self.root = name
        parent = self.stack[-1] if self.stack else None
        self.stack.append(name)
        if name == _CONFIGURATION:
            if self._config is not None:
                raise _Abort("An esf:configuration is inside another one; expected each "
                             "directly in esf:configurations.")
            self._config = KuraComponent(pid=str(attrs.get("pid", "")))
            if "pid" not in attrs:
                self._config.problems.append("it has no pid attribute")
            self._config_depth = len(self.stack)
            self._properties_seen = 0
            return
        if name.endswith(":configuration") or name == "configuration":
            self.other_prefixes.add(name.rpartition(":")[0])
        if self._config is None:
            return
        depth = len(self.stack) - self._config_depth
        if depth == 1 and name == _PROPERTIES:
            self._properties_seen += 1
            if self._properties_seen == 2:
                self._config.problems.append(
                    "it has more than one esf:properties (Kura would read only the last)")
            self._in_properties = True
        elif depth == 2 and self._in_properties:
            if name != _PROPERTY:
                self._config.problems.append(
                    f"esf:properties holds <{name[:60]}>; expected only esf:property elements")
                return
            self._prop = dict(attrs.items())
            self._values = []
            self._prop_problem = None
        elif depth == 3 and self._prop is not None:
            if name != _VALUE:
                self._prop_problem = f"it holds <{name[:60]}>; expected only esf:value elements"
                return
            self._text = []
        elif depth == 4 and self._text is not None and parent == _VALUE:
            self._prop_problem = "an esf:value holds an element; expected only text"

    def endElement(self, name: str) -> None:
        depth = len(self.stack) - self._config_depth
        self.stack.pop()
        if self._config is None:
            return
        if name == _CONFIGURATION and depth == 0:
            self.components.append(self._config)
            self._config = None
            self._in_properties = False
        elif depth == 1 and name == _PROPERTIES:
            self._in_properties = False
        elif depth == 2 and name == _PROPERTY and self._prop is not None:
            self._config.properties.append(_xml_property(self._prop, self._values,
                                                         self._prop_problem))
            self._prop = None
        elif depth == 3 and name == _VALUE and self._text is not None:
            self._values.append("".join(self._text))
            self._text = None

    def characters(self, content: str) -> None:
        if self._text is not None and self.stack and self.stack[-1] == _VALUE:
            self._text.append(content)


def _flag(attrs: dict[str, object], key: str) -> tuple[bool, str | None]:
    raw = attrs.get(key)
    if raw is None:
        return False, None  # as Kura: a missing flag is false
    text = str(raw)
    if text.lower() in ("true", "false"):
        return text.lower() == "true", None
    return False, (f"its {key} attribute is {text[:40]!r}; expected true or false (Kura reads "
                   "anything else as false)")


def _xml_property(attrs: dict[str, object], values: list[str],
                  problem: str | None) -> KuraProperty:
    name = str(attrs.get("name", ""))
    type_text = None if attrs.get("type") is None else str(attrs["type"])
    # Kura's streaming reader takes a property without a type as a String.
    kind = FieldType.STRING if type_text is None else XML_TYPES.get(type_text)
    array, array_problem = _flag(attrs, "array")
    encrypted, encrypted_problem = _flag(attrs, "encrypted")
    if "name" not in attrs:
        problem = problem or "it has no name attribute"
    return KuraProperty(name, kind, type_text, array, encrypted, tuple(values),
                        problem or array_problem or encrypted_problem)


def read_xml(text: str) -> list[KuraComponent]:
    """Every ``esf:configuration`` of an XML text, as written; raise CodecError if the text is
    not XML a configuration can be read from (malformed, a DTD, entities, too big or deep, an
    encoding other than UTF-8, or configurations under a prefix other than ``esf``)."""
    _check_declared_encoding(text)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise CodecError("The file holds characters that have no UTF-8 form (unpaired "
                         "surrogates); expected UTF-8 text.") from None
    handler = _Handler()
    try:
        # Kura never writes a DTD, and a DTD is what entity expansion ("billion laughs") and
        # external entities need: refuse any.
        defusedxml.sax.parseString(data, handler, forbid_dtd=True, forbid_entities=True,
                                   forbid_external=True)
    except _Abort as exc:
        raise CodecError(str(exc)) from None
    except defusedxml.DTDForbidden:
        raise CodecError(
            "The file declares a DTD (<!DOCTYPE ...>), which Kura never writes and through "
            "which XML can expand entities without bound or read other files; Moorings reads "
            "no XML with a DTD: remove the DOCTYPE.") from None
    except defusedxml.DefusedXmlException as exc:
        raise CodecError(f"The file uses an XML feature Moorings does not read from untrusted "
                         f"files ({type(exc).__name__}); expected Kura's plain XML.") from None
    except xml.sax.SAXParseException as exc:
        message = str(exc.getMessage())[:120]
        raise CodecError(f"The file is not well-formed XML (line {exc.getLineNumber()}, column "
                         f"{exc.getColumnNumber()}: {message}).") from None
    except (xml.sax.SAXException, ValueError) as exc:
        raise CodecError(f"The file cannot be read as XML ({str(exc)[:120]}).") from None
    if not handler.components and handler.other_prefixes:
        shown_prefixes = ", ".join(sorted(f"{p}:configuration" if p else "configuration"
                                          for p in handler.other_prefixes))
        raise CodecError(
            f"The file has {shown_prefixes} elements but no esf:configuration. Kura reads "
            "configurations only under the literal prefix esf (it would apply nothing from "
            "this file); write esf:configuration, esf:properties, esf:property and esf:value, "
            f"with xmlns:esf=\"{ESF_NS}\".")
    if handler.root == "esf:snapshot-ids":
        raise CodecError("The file is a list of Kura snapshot ids, not a configuration; "
                         "expected a snapshot or a configurations document.")
    return handler.components


# -- JSON ----------------------------------------------------------------------------------

_TOP_KEYS = {"configs", "takeSnapshot"}
_CONFIG_KEYS = {"pid", "factoryPid", "properties", "definition"}
_PROPERTY_KEYS = {"type", "value"}


def is_kura_json(doc: object) -> bool:
    """Whether a JSON document is in Kura's form (``{"configs": [...]}``, or one configuration
    ``{"pid": ..., "properties": ...}``) rather than Moorings' own."""
    if not isinstance(doc, dict):
        return False
    if {"format", "schema", "service", "instances"} & set(doc):
        return False
    return "configs" in doc or ("pid" in doc and "properties" in doc)


def read_json(doc: object) -> list[KuraComponent]:
    """Every configuration of a loaded Kura JSON document; raise CodecError if it is not one."""
    if not isinstance(doc, dict):
        raise CodecError("The file must hold a JSON object with \"configs\".")
    if "configs" in doc:
        unknown = sorted(set(doc) - _TOP_KEYS)
        if unknown:
            raise CodecError(f"Unknown top-level key {str(unknown[0])[:60]!r} in Kura JSON; "
                             "expected \"configs\" (and \"takeSnapshot\").")
        configs = doc["configs"]
        if not isinstance(configs, list):
            raise CodecError("\"configs\" must be a list of configurations, each "
                             "{\"pid\": ..., \"properties\": {...}}.")
    else:
        configs = [doc]
    return [_json_component(i, entry) for i, entry in enumerate(configs)]


def _json_component(index: int, entry: object) -> KuraComponent:
    where = f"configs[{index}]"
    if not isinstance(entry, dict):
        raise CodecError(f"{where} must be an object {{\"pid\": ..., \"properties\": {{...}}}}.")
    pid = entry.get("pid")
    if not isinstance(pid, str):
        raise CodecError(f"{where} has no \"pid\" text; expected the component's pid, such "
                         "as the instance's name.")
    factory = entry.get("factoryPid")
    component = KuraComponent(pid=pid, factory_pid=factory if isinstance(factory, str) else None)
    if factory is not None and not isinstance(factory, str):
        component.problems.append("its \"factoryPid\" is not text")
    for key in sorted(set(entry) - _CONFIG_KEYS):
        component.problems.append(
            f"it has the key {key[:60]!r}; expected pid, factoryPid, properties and definition")
    props = entry.get("properties", {})
    if not isinstance(props, dict):
        component.problems.append("its \"properties\" is not an object of property name to "
                                  "{\"type\": ..., \"value\": ...}")
        return component
    for name, raw in props.items():
        component.properties.append(_json_property(name, raw))
    return component


def _json_property(name: str, raw: object) -> KuraProperty:
    if not isinstance(raw, dict):
        return KuraProperty(name, None, None, False, False, (), "it is not an object "
                            "{\"type\": ..., \"value\": ...}")
    unknown = sorted(set(raw) - _PROPERTY_KEYS)
    type_text = raw.get("type")
    kind = JSON_TYPES.get(type_text) if isinstance(type_text, str) else None
    value = raw.get("value")
    array = isinstance(value, list)
    values: tuple[object, ...] = tuple(value) if isinstance(value, list) else (value,)
    problem = None
    if unknown:
        problem = f"it has the key {unknown[0][:60]!r}; expected only \"type\" and \"value\""
    elif type_text is None:
        problem = "it has no \"type\"; expected one of " + ", ".join(JSON_TYPES)
    elif not isinstance(type_text, str):
        problem = "its \"type\" is not text; expected one of " + ", ".join(JSON_TYPES)
    text = type_text if isinstance(type_text, str) else None
    return KuraProperty(name, kind, text, array, False, values, problem)


# -- writing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class OutProperty:
    """One property to write: its Kura type and its values as text (XML) and as JSON."""

    name: str
    type: FieldType
    values: tuple[str, ...]
    json_value: object
    array: bool = False


@dataclass(frozen=True)
class OutOption:
    label: str
    value: str


@dataclass(frozen=True)
class OutAD:
    """One ``ocd:AD`` as Kura writes it; None and "" attributes are left out."""

    id: str
    name: str
    type: FieldType
    cardinality: int
    required: bool
    default: str | None = None
    description: str | None = None
    min: str | None = None
    max: str | None = None
    options: Sequence[OutOption] = ()


@dataclass(frozen=True)
class OutOCD:
    id: str
    name: str
    description: str
    ads: Sequence[OutAD]


@dataclass(frozen=True)
class OutComponent:
    pid: str
    properties: Sequence[OutProperty]
    ocd: OutOCD | None = None  # written first, as Kura's CONF-V1 GET configurations does


# XML 1.0 cannot carry these at all, not even as character references.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def not_xml_char(text: str) -> str | None:
    """The first character of ``text`` that XML 1.0 cannot hold, or None."""
    found = _NOT_XML.search(text)
    return found.group(0) if found else None


def _text(value: str) -> str:
    # \r is kept as a reference: a parser turns a written line end into \n.
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


def _attr(value: str) -> str:
    return (_text(value).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;"))


def write_xml(components: Sequence[OutComponent]) -> str:
    """Kura's exact XML form: the ``esf`` prefix, 4-space indentation, values on one line with
    nothing added around them. Texts must hold only characters XML can (see not_xml_char)."""
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
             f'<esf:configurations xmlns:esf="{ESF_NS}" xmlns:ocd="{OCD_NS}">']
    for comp in components:
        lines.append(f'    <esf:configuration pid="{_attr(comp.pid)}">')
        if comp.ocd is not None:
            lines.extend(_ocd_lines(comp.ocd))
        lines.append("        <esf:properties>")
        for prop in comp.properties:
            encrypted = "true" if prop.type is FieldType.PASSWORD else "false"
            head = (f'            <esf:property name="{_attr(prop.name)}" '
                    f'array="{"true" if prop.array else "false"}" encrypted="{encrypted}" '
                    f'type="{prop.type.value}"')
            if not prop.values:
                lines.append(head + "/>")
                continue
            lines.append(head + ">")
            lines.extend(f"                <esf:value>{_text(v)}</esf:value>" for v in prop.values)
            lines.append("            </esf:property>")
        lines.append("        </esf:properties>")
        lines.append("    </esf:configuration>")
    lines.append("</esf:configurations>")
    return "\n".join(lines) + "\n"


def _attrs(pairs: Sequence[tuple[str, str | None]]) -> str:
    return "".join(f' {k}="{_attr(v)}"' for k, v in pairs if v not in (None, ""))


def _ocd_lines(ocd: OutOCD) -> list[str]:
    head = _attrs([("name", ocd.name), ("description", ocd.description), ("id", ocd.id)])
    lines = [f"        <ocd:OCD{head}>"]
    for ad in ocd.ads:
        head = "            <ocd:AD" + _attrs([
            ("name", ad.name), ("id", ad.id), ("type", ad.type.value),
            ("cardinality", str(ad.cardinality)), ("required", "true" if ad.required else
                                                   "false"),
            ("default", ad.default), ("description", ad.description), ("min", ad.min),
            ("max", ad.max)])
        if not ad.options:
            lines.append(head + "/>")
            continue
        lines.append(head + ">")
        for o in ad.options:
            option = _attrs([("label", o.label), ("value", o.value)])
            lines.append(f"                <ocd:Option{option}/>")
        lines.append("            </ocd:AD>")
    lines.append("        </ocd:OCD>")
    return lines


def write_snapshot_ids(ids: Sequence[int]) -> str:
    """``esf:snapshot-ids``, the body of CONF-V1's snapshot lists."""
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
             f'<esf:snapshot-ids xmlns:esf="{ESF_NS}" xmlns:ocd="{OCD_NS}">']
    lines.extend(f"    <esf:snapshotIds>{i}</esf:snapshotIds>" for i in ids)
    lines.append("</esf:snapshot-ids>")
    return "\n".join(lines) + "\n"


def write_json(components: Sequence[OutComponent]) -> str:
    """Kura's REST v2 / web UI snapshot JSON: ``{"configs": [{"pid", "properties"}]}``."""
    configs = [{"pid": comp.pid,
                "properties": {p.name: {"type": p.type.name, "value": p.json_value}
                               for p in comp.properties}}
               for comp in components]
    return json.dumps({"configs": configs}, indent=2, ensure_ascii=False) + "\n"

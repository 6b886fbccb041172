"""Field descriptors: the OSGi Metatype 1.2 files in resources/metatype, parsed into objects."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from app.errors import StoreError

METATYPE_NS = "http://www.osgi.org/xmlns/metatype/v1.2.0"
MOORINGS_NS = "urn:moorings:metatype:1"

RESOURCES_DIR = Path(__file__).resolve().parent.parent / "resources"
METATYPE_DIR = RESOURCES_DIR / "metatype"


class FieldType(str, Enum):
    """The AD types of Metatype 1.2 (Char and Byte are kept for completeness)."""

    STRING = "String"
    LONG = "Long"
    DOUBLE = "Double"
    FLOAT = "Float"
    INTEGER = "Integer"
    BYTE = "Byte"
    CHAR = "Char"
    BOOLEAN = "Boolean"
    SHORT = "Short"
    PASSWORD = "Password"

    @property
    def is_integral(self) -> bool:
        return self in (FieldType.LONG, FieldType.INTEGER, FieldType.SHORT, FieldType.BYTE)

    @property
    def is_decimal(self) -> bool:
        return self in (FieldType.FLOAT, FieldType.DOUBLE)

    @property
    def integral_limits(self) -> tuple[int, int]:
        """The range a whole number of this type holds (Java's, as Kura stores them)."""
        bits = {FieldType.BYTE: 8, FieldType.SHORT: 16, FieldType.INTEGER: 32}.get(self, 64)
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


@dataclass(frozen=True)
class Option:
    """One allowed value of an AD with a fixed choice, as shown (label) and stored (value)."""

    label: str
    value: str


@dataclass(frozen=True)
class FieldDescriptor:
    """One AD: everything the model, the validator and the form need to know of a field."""

    id: str
    name: str
    description: str
    type: FieldType
    default: str | None
    required: bool
    cardinality: int = 0
    min: str | None = None
    max: str | None = None
    options: tuple[Option, ...] = ()
    syntax: str | None = None
    role: str | None = None
    widget: str | None = None
    unit: str | None = None
    default_env: str | None = None

    @property
    def is_secret(self) -> bool:
        return self.type is FieldType.PASSWORD

    def effective_default(self) -> str | None:
        """The default as text, taking ``moorings:default-env`` into account."""
        if self.default_env:
            from_env = os.environ.get(self.default_env, "").strip()
            if from_env:
                return from_env
        return self.default


@dataclass(frozen=True)
class ComponentDescriptor:
    """One OCD together with its Designate: a singleton (pid) or a factory (factory_pid)."""

    id: str
    name: str
    description: str
    fields: tuple[FieldDescriptor, ...]
    pid: str | None = None
    factory_pid: str | None = None
    source: Path | None = field(default=None, compare=False)

    @property
    def is_factory(self) -> bool:
        return self.factory_pid is not None

    def field(self, field_id: str) -> FieldDescriptor:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)

    def field_ids(self) -> list[str]:
        return [f.id for f in self.fields]

    def secret_ids(self) -> frozenset[str]:
        return frozenset(f.id for f in self.fields if f.is_secret)

    def find_by_role(self, role: str) -> FieldDescriptor | None:
        for f in self.fields:
            if f.role == role:
                return f
        return None

    def find_by_syntax(self, syntax: str) -> FieldDescriptor | None:
        for f in self.fields:
            if f.syntax == syntax:
                return f
        return None


@dataclass(frozen=True)
class Catalog:
    """Every component described in a metatype folder."""

    components: tuple[ComponentDescriptor, ...]

    def singletons(self) -> list[ComponentDescriptor]:
        return [c for c in self.components if not c.is_factory]

    def factories(self) -> list[ComponentDescriptor]:
        return [c for c in self.components if c.is_factory]

    def by_pid(self, pid: str) -> ComponentDescriptor:
        for c in self.components:
            if pid in (c.pid, c.factory_pid):
                return c
        raise KeyError(pid)


def _attr(el: ET.Element, name: str, ns: str | None = None) -> str | None:
    return el.get(f"{{{ns}}}{name}" if ns else name)


def _tag(el: ET.Element) -> str:
    # Accept both namespaced and plain element names: hand-written files often omit xmlns.
    return el.tag.rsplit("}", 1)[-1]


def _parse_ad(el: ET.Element, source: Path) -> FieldDescriptor:
    ad_id = _attr(el, "id")
    if not ad_id:
        raise StoreError(f"{source.name}: an AD has no id attribute.")
    type_text = _attr(el, "type") or "String"
    try:
        ftype = FieldType(type_text)
    except ValueError:
        allowed = ", ".join(t.value for t in FieldType)
        raise StoreError(
            f"{source.name}: AD {ad_id} has type {type_text!r}; expected one of {allowed}."
        ) from None
    options = tuple(
        Option(label=_attr(o, "label") or (_attr(o, "value") or ""), value=_attr(o, "value") or "")
        for o in el
        if _tag(o) == "Option"
    )
    card_text = _attr(el, "cardinality") or "0"
    try:
        cardinality = int(card_text)
    except ValueError:
        raise StoreError(
            f"{source.name}: AD {ad_id} has cardinality {card_text!r}; expected an integer."
        ) from None
    return FieldDescriptor(
        id=ad_id,
        name=_attr(el, "name") or ad_id,
        description=_attr(el, "description") or "",
        type=ftype,
        default=_attr(el, "default"),
        required=(_attr(el, "required") or "true").lower() == "true",
        cardinality=cardinality,
        min=_attr(el, "min"),
        max=_attr(el, "max"),
        options=options,
        syntax=_attr(el, "syntax", MOORINGS_NS),
        role=_attr(el, "role", MOORINGS_NS),
        widget=_attr(el, "widget", MOORINGS_NS),
        unit=_attr(el, "unit", MOORINGS_NS),
        default_env=_attr(el, "default-env", MOORINGS_NS),
    )


def parse_metatype_file(path: Path) -> list[ComponentDescriptor]:
    """Parse one metatype XML file into its components (one per Designate)."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise StoreError(f"The field descriptor file {path} cannot be read: {exc}.") from exc
    ocds: dict[str, ComponentDescriptor] = {}
    for el in root:
        if _tag(el) != "OCD":
            continue
        ocd_id = _attr(el, "id")
        if not ocd_id:
            raise StoreError(f"{path.name}: an OCD has no id attribute.")
        fields = tuple(_parse_ad(ad, path) for ad in el if _tag(ad) == "AD")
        seen: set[str] = set()
        for f in fields:
            if f.id in seen:
                raise StoreError(f"{path.name}: AD {f.id} appears twice in OCD {ocd_id}.")
            seen.add(f.id)
        ocds[ocd_id] = ComponentDescriptor(
            id=ocd_id,
            name=_attr(el, "name") or ocd_id,
            description=_attr(el, "description") or "",
            fields=fields,
            source=path,
        )
    components: list[ComponentDescriptor] = []
    for el in root:
        if _tag(el) != "Designate":
            continue
        obj = next((o for o in el if _tag(o) == "Object"), None)
        ref = _attr(obj, "ocdref") if obj is not None else None
        if ref is None or ref not in ocds:
            raise StoreError(f"{path.name}: a Designate refers to an unknown OCD {ref!r}.")
        base = ocds[ref]
        components.append(
            ComponentDescriptor(
                id=base.id,
                name=base.name,
                description=base.description,
                fields=base.fields,
                pid=_attr(el, "pid"),
                factory_pid=_attr(el, "factoryPid"),
                source=path,
            )
        )
    return components


def load_catalog(folder: Path | None = None) -> Catalog:
    """Every component described by the ``*.xml`` files of ``folder`` (default: ours)."""
    folder = folder or METATYPE_DIR
    components: list[ComponentDescriptor] = []
    for path in sorted(folder.glob("*.xml")):
        components.extend(parse_metatype_file(path))
    if not components:
        raise StoreError(f"No field descriptors were found in {folder}.")
    return Catalog(tuple(components))


SERVICE_PID = "org.eclipse.kura.container.orchestration.provider.ContainerOrchestrationService"
INSTANCE_FACTORY_PID = "org.eclipse.kura.container.provider.ContainerInstance"

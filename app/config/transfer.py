"""The import/export document: every component configuration, keyed by Kura property ids."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.config.model import Scalar, validate
from app.errors import FieldError
from app.metatype import INSTANCE_FACTORY_PID, SERVICE_PID, Catalog

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


def _doc_error(message: str, component: str | None = None) -> FieldError:
    return FieldError("document", "Document", message, None, component)


def parse_document(text: str, catalog: Catalog) -> ParsedDocument:
    """Check a whole document before anything is written; collect every error, not the first."""
    out = ParsedDocument(None, {})
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        out.errors.append(_doc_error(
            f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."))
        return out
    if not isinstance(doc, dict):
        out.errors.append(_doc_error("The file must hold a JSON object with \"service\" and/or "
                                     "\"instances\"."))
        return out
    schema = doc.get("schema", DOCUMENT_SCHEMA)
    if not isinstance(schema, int) or schema > DOCUMENT_SCHEMA:
        out.errors.append(_doc_error(
            f"The file has schema {schema!r}, newer than this Moorings reads "
            f"({DOCUMENT_SCHEMA}); export it again with this version or upgrade Moorings."))
        return out
    unknown = set(doc) - {"format", "schema", "service", "instances", SERVICE_PID}
    for key in sorted(unknown):
        out.errors.append(_doc_error(
            f"Unknown top-level key {key!r}; expected \"service\" and \"instances\"."))

    service_raw = doc.get("service", doc.get(SERVICE_PID))
    if service_raw is not None:
        if not isinstance(service_raw, dict):
            out.errors.append(_doc_error("\"service\" must be an object of property ids to "
                                         "values.", "service"))
        else:
            result = validate(catalog.by_pid(SERVICE_PID), service_raw, None)
            out.errors.extend(
                FieldError(e.field_id, e.field_name, e.message, e.item, "service")
                for e in result.errors)
            out.warnings.extend(result.warnings)
            out.service = {**result.values, **result.extras}

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
        try:
            component = catalog.by_pid(str(factory))
        except KeyError:
            known = ", ".join(c.factory_pid or "" for c in catalog.factories())
            out.errors.append(_doc_error(
                f"Unknown factory {factory!r}; expected one of {known}.", name))
            continue
        if not component.is_factory:
            out.errors.append(_doc_error(f"{factory} is not a factory.", name))
            continue
        result = validate(component, props, name)
        out.errors.extend(result.errors)
        out.warnings.extend(result.warnings)
        out.instances[name] = (str(factory), {**result.values, **result.extras})
        missing = {sid for sid in component.secret_ids() if sid not in props}
        if missing:
            out.absent_secrets[name] = missing
    return out


def build_document(
    service: Mapping[str, Scalar],
    instances: Mapping[str, tuple[str, Mapping[str, Scalar]]],
    catalog: Catalog,
    *,
    include_secrets: bool = False,
) -> dict[str, Any]:
    """The export document; secret values are left out unless asked for."""
    out_instances: dict[str, Any] = {}
    for name in sorted(instances):
        factory, props = instances[name]
        secrets = catalog.by_pid(factory).secret_ids()
        kept = {k: v for k, v in props.items() if include_secrets or k not in secrets}
        out_instances[name] = {"factoryPid": factory, "properties": dict(sorted(kept.items()))}
    return {
        "format": FORMAT_NAME,
        "schema": DOCUMENT_SCHEMA,
        "service": dict(sorted(service.items())),
        "instances": out_instances,
    }

"""Typed component values: coercion by AD type, per-field syntax checks and cross-field rules."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.config.store import Scalar as Scalar  # re-exported; defined once, with the store
from app.errors import FieldError, SyntaxProblem
from app.fields import logger as logger_fields
from app.fields import names, ports
from app.fields.lists import split_list
from app.fields.syntaxes import LIST_SYNTAXES
from app.fields.syntaxes import parse as parse_syntax
from app.fields.text import refuse_unpassable
from app.metatype import ComponentDescriptor, FieldDescriptor, FieldType

# OSGi / Kura bookkeeping keys that a Kura snapshot carries beside the real fields; they
# describe the component itself, so importing them as fields would be wrong and warning
# about them would be noise.
BOOKKEEPING_KEYS = frozenset(
    {"kura.service.pid", "service.pid", "service.factoryPid", "component.name", "component.id",
     "service.bundleLocation", "kura.factory.pid"}
)

# A property holds one value of one of Kura's types; the widest are Long and Double.
SCALAR_EXPECTED = "expected true/false, a number or text"
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1



@dataclass
class ValidationResult:
    """The outcome of checking one component's values."""

    values: dict[str, Scalar]
    errors: list[FieldError]
    extras: dict[str, Scalar] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _problem(desc: FieldDescriptor, component: str | None, exc: SyntaxProblem) -> FieldError:
    return FieldError(desc.id, desc.name, exc.message, exc.item, component)


def kind_of(value: object) -> str:
    """What a value that is not a scalar is, in words: "a list", "an object"."""
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__} value"


def _expected_kind(t: FieldType) -> str:
    if t is FieldType.BOOLEAN:
        return "a yes/no value; expected true or false"
    if t.is_integral:
        return "a whole number; expected digits such as 5"
    if t.is_decimal:
        return "a number; expected a number such as 1.5"
    return "text; expected text"


def _too_long(value: int) -> bool:
    # Beyond this, writing the number as text is slow and Python refuses it by default.
    return value.bit_length() > 1000


def coerce(desc: FieldDescriptor, raw: object) -> Scalar:
    """Turn a value from JSON, a form or a Kura file into the AD's type, or raise SyntaxProblem."""
    t = desc.type
    if raw is None:
        raw = ""
    if not isinstance(raw, (bool, int, float, str)):
        # Never its repr: a nested list can be too deep to print, and long besides.
        raise SyntaxProblem(f"{kind_of(raw)} is not {_expected_kind(t)}.")
    if isinstance(raw, int) and not isinstance(raw, bool) and _too_long(raw):
        expected = _expected_kind(t).partition("; ")[2]
        raise SyntaxProblem(f"a whole number of more than 300 digits is out of range; {expected}.")
    if isinstance(raw, float) and not math.isfinite(raw):
        expected = _expected_kind(t).partition("; ")[2]
        raise SyntaxProblem(f"{raw!r} is not a finite number; {expected}.", repr(raw))
    if t is FieldType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        raise SyntaxProblem(f"{raw!r} is not a yes/no value; expected true or false.", str(raw))
    if t.is_integral:
        value: int
        if isinstance(raw, bool):
            raise SyntaxProblem(f"{raw!r} is not a whole number; expected digits.", str(raw))
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, float) and raw.is_integer():
            value = int(raw)
        elif isinstance(raw, str) and raw.strip().lstrip("+-").isdigit() and raw.strip().isascii():
            value = int(raw.strip())
        else:
            shown = raw if isinstance(raw, str) else repr(raw)
            if isinstance(raw, str) and not raw.strip():
                if not desc.required:
                    return ""
                raise SyntaxProblem("A value is required; expected a whole number such as 5.")
            raise SyntaxProblem(f"{shown!r} is not a whole number; expected digits such as 5.",
                                str(raw))
        lo, hi = t.integral_limits
        _check_range(desc, value, lo, hi)
        return value
    if t.is_decimal:
        if isinstance(raw, str) and not raw.strip():
            if desc.required:
                raise SyntaxProblem("A value is required; expected a number such as 1.5.")
            return ""
        try:
            number = float(raw.strip() if isinstance(raw, str) else raw)
        except (TypeError, ValueError):
            raise SyntaxProblem(f"{raw!r} is not a number; expected a number such as 1.5.",
                                str(raw)) from None
        if isinstance(raw, bool) or not math.isfinite(number):
            raise SyntaxProblem(f"{raw!r} is not a number; expected a number such as 1.5.",
                                str(raw))
        _check_range(desc, number, -math.inf, math.inf)
        return number
    # String, Password, Char: text as given. Numbers from a JSON file are accepted as text
    # because Kura snapshots are not strict about it.
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (int, float)):
        return repr(raw) if isinstance(raw, float) else str(raw)
    if not isinstance(raw, str):
        raise SyntaxProblem(f"{type(raw).__name__} values are not accepted; expected text.")
    if desc.options:
        return _match_option(desc, raw)
    return raw


def _check_range(desc: FieldDescriptor, value: float, lo: float, hi: float) -> None:
    has_min = desc.min not in (None, "")
    has_max = desc.max not in (None, "")
    if has_min:
        lo = max(lo, float(desc.min))  # type: ignore[arg-type]
    if has_max:
        hi = min(hi, float(desc.max))  # type: ignore[arg-type]
    if lo <= value <= hi:
        return
    # Name the bound the descriptor sets; the type's own limit only when nothing else applies.
    if has_min and has_max:
        expected = f"expected a value from {_num(lo)} to {_num(hi)}"
    elif value < lo:
        expected = f"expected {_num(lo)} or more"
    else:
        expected = f"expected {_num(hi)} or less"
    raise SyntaxProblem(f"{_num(value)} is out of range; {expected}.", _num(value))


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _match_option(desc: FieldDescriptor, raw: str) -> str:
    text = raw.strip()
    for opt in desc.options:
        if text == opt.value:
            return opt.value
    for opt in desc.options:
        if text.lower() == opt.value.lower():
            return opt.value
    allowed = ", ".join(o.value for o in desc.options)
    raise SyntaxProblem(f"{raw!r} is not one of the choices; expected one of {allowed}.", raw)


def default_values(component: ComponentDescriptor) -> dict[str, Scalar]:
    """The component's values when nothing was set: each AD's default, typed."""
    out: dict[str, Scalar] = {}
    for desc in component.fields:
        text = desc.effective_default()
        if text is None:
            text = ""
        try:
            out[desc.id] = coerce(desc, text)
        except SyntaxProblem:
            out[desc.id] = text
    return out


def validate(
    component: ComponentDescriptor,
    values: Mapping[str, object],
    name: str | None = None,
    *,
    fill_defaults: bool = True,
) -> ValidationResult:
    """Check every value of one component; return typed values and every problem found.

    Missing fields take their default. Keys that no AD describes are kept aside in
    ``extras`` (never dropped silently: they are stored, exported and reported).
    """
    errors: list[FieldError] = []
    typed: dict[str, Scalar] = default_values(component) if fill_defaults else {}
    extras: dict[str, Scalar] = {}
    warnings: list[str] = []
    known = set(component.field_ids())
    for key, raw in values.items():
        if key in known:
            continue
        if key in BOOKKEEPING_KEYS:
            continue
        problem = unknown_value_problem(key, raw)
        if problem is not None or not isinstance(raw, (bool, int, float, str)):
            errors.append(FieldError(key, "Unknown property", problem or SCALAR_EXPECTED,
                                     None, name))
            continue
        extras[key] = raw
        where = f"{name}: " if name else ""
        warnings.append(
            f"{where}{key} is not a field Moorings knows; it is kept as it is but has no effect."
        )

    if name is not None and component.is_factory:
        try:
            names.parse_container_name(name)
        except SyntaxProblem as exc:
            errors.append(FieldError("name", "Name", exc.message, exc.item, name))

    for desc in component.fields:
        if desc.id not in values:
            if fill_defaults:
                continue
            given: object = typed.get(desc.id, desc.effective_default() or "")
        else:
            given = values[desc.id]
        try:
            value = coerce(desc, given)
            if isinstance(value, str) and desc.type in _TEXT_TYPES:
                _refuse_unpassable(desc, value)
            if desc.required and desc.type in (FieldType.STRING, FieldType.PASSWORD) and \
                    isinstance(value, str) and not value.strip() and desc.syntax:
                raise SyntaxProblem("A value is required here.")
            if desc.syntax and not (isinstance(value, str) and not value.strip()
                                    and not desc.required):
                parse_syntax(desc.syntax, value if isinstance(value, str) else str(value))
        except SyntaxProblem as exc:
            errors.append(_problem(desc, name, exc))
            continue
        typed[desc.id] = value

    errors.extend(_cross_field_errors(component, typed, errors, name))
    return ValidationResult(typed, errors, extras, warnings)


_TEXT_TYPES = frozenset({FieldType.STRING, FieldType.PASSWORD, FieldType.CHAR})


def _refuse_unpassable(desc: FieldDescriptor, value: str) -> None:
    """Text goes to the engine (or the registry) as it is: refuse what cannot get there intact."""
    items: list[str] | None = None
    if desc.syntax in LIST_SYNTAXES:
        try:
            items = split_list(value)
        except SyntaxProblem:
            items = None
    refuse_unpassable(value, items, secret=desc.is_secret)


def unknown_value_problem(key: str, raw: object) -> str | None:
    """Why a property no field describes cannot be kept as it is, or None.

    Such a value is stored and exported untouched, so it must be one value of a Kura type:
    never a list or an object (it would be stored as Python text), never a number the
    configuration file cannot hold.
    """
    if not isinstance(raw, (bool, int, float, str)):
        return f"{key} is {kind_of(raw)}; {SCALAR_EXPECTED} (a property holds one value)"
    if isinstance(raw, float) and not math.isfinite(raw):
        return f"{key} is {raw!r}, not a finite number; {SCALAR_EXPECTED}"
    if isinstance(raw, int) and not isinstance(raw, bool) and not LONG_MIN <= raw <= LONG_MAX:
        return (f"{key} is a whole number beyond what Kura can hold; {SCALAR_EXPECTED} "
                f"(a whole number from {LONG_MIN} to {LONG_MAX})")
    return None


def _cross_field_errors(
    component: ComponentDescriptor,
    typed: Mapping[str, Scalar],
    already: list[FieldError],
    name: str | None,
) -> list[FieldError]:
    failed = {e.field_id for e in already}
    out: list[FieldError] = []

    internal = component.find_by_syntax("ports-internal")
    external = component.find_by_syntax("ports-external")
    if internal and external and not {internal.id, external.id} & failed:
        try:
            ports.pair_ports(str(typed.get(internal.id, "")), str(typed.get(external.id, "")))
        except SyntaxProblem as exc:
            out.append(_problem(external, name, exc))
        else:
            net = component.find_by_role("network-mode")
            mode = str(typed.get(net.id, "")).strip() if net else ""
            published = str(typed.get(external.id, "")).strip()
            if published and (mode == "host" or mode.startswith("container:")):
                # The engine refuses published ports here; say so before anything is stored.
                out.append(_problem(external, name, SyntaxProblem(
                    f"ports cannot be published with the network mode {mode}, where the "
                    "container uses another network stack's ports directly; expected Internal "
                    "Ports and External Ports to be empty with this network mode")))

    broker = component.find_by_syntax("mqtt-url")
    enabled = component.find_by_role("enabled")
    if broker and enabled and broker.id not in failed and typed.get(enabled.id) is True \
            and not str(typed.get(broker.id, "")).strip():
        out.append(_problem(broker, name, SyntaxProblem(
            f"a broker is required while {enabled.name} is on; expected mqtts://HOST[:PORT] "
            "or mqtt://HOST[:PORT], or turn Enabled off")))

    ltype = component.find_by_syntax("logger-type")
    lopts = component.find_by_syntax("logger-options")
    if ltype and lopts and not {ltype.id, lopts.id} & failed:
        try:
            driver = logger_fields.parse_logger_type(str(typed.get(ltype.id, "")))
            options = logger_fields.parse_logger_options(str(typed.get(lopts.id, "")))
            logger_fields.check_logger_options(driver, options)
        except SyntaxProblem as exc:
            out.append(_problem(lopts, name, exc))
    return out

"""Kura's typed property values: text (XML) and JSON values to Python values by their declared
type, with Kura's limits, and the Base64 passwords of Kura's plaintext exports."""

from __future__ import annotations

import base64
import binascii
import math
import re

from app.config.kura_wire import KuraProperty
from app.config.model import Scalar
from app.errors import shown
from app.metatype import FieldType

KURA_JSON = "Kura JSON"

# What Kura's REST API (CONF-V2) returns in place of every password (eclipse-kura/kura#4893).
PASSWORD_PLACEHOLDER = "placeholder"


class Problem(ValueError):
    """A value that cannot be read as its type; the message says why and what is expected."""


class Refused(Problem):
    """A password that cannot be used (not one at all): refused, the rest of the file goes on."""


_INTEGRAL = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[fFdD]?")
_FLOAT_MAX = 3.4028234663852886e38


def convert(prop: KuraProperty, source: str) -> object:
    """The property's value by its declared type: a scalar, a list (an array), or None."""
    if prop.problem:
        raise Problem(f"cannot be read: {prop.problem}.")
    if prop.type is None:
        allowed = ", ".join(t.name if source == KURA_JSON else t.value for t in FieldType)
        raise Problem(f"has the type {shown(str(prop.type_text)[:40])!r}, which Kura does not "
                       f"know (Kura would drop the property without a word); expected one of "
                       f"{allowed}.")
    if source == KURA_JSON:
        return _from_json(prop)
    if prop.array:
        return [_from_text(prop, str(v)) for v in prop.values]
    if not prop.values:
        raise Problem("has no esf:value; a single value needs one (<esf:value></esf:value> "
                       "for empty text).")
    if len(prop.values) > 1:
        raise Problem(f"has {len(prop.values)} esf:value elements but is not an array "
                       "(array=\"false\"); Kura would take the first and drop the others.")
    return _from_text(prop, str(prop.values[0]))


def _from_text(prop: KuraProperty, text: str) -> Scalar:
    kind = prop.type
    if kind is FieldType.PASSWORD:
        return _password(text) if prop.encrypted else text
    if kind is FieldType.BOOLEAN:
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise Problem(f"is {shown(text[:40])!r}; expected true or false (Kura would read "
                       "anything but true as false).")
    if kind is FieldType.CHAR:
        if len(text) != 1:
            raise Problem(f"holds {len(text)} characters; a Char holds exactly one.")
        return text
    if kind is not None and kind.is_integral:
        if text == "":
            return ""
        if not _INTEGRAL.fullmatch(text):
            raise Problem(f"is {shown(text[:40])!r}; expected a whole number (digits, an "
                           "optional sign, no spaces).")
        return _in_range(kind, int(text))
    if kind is not None and kind.is_decimal:
        stripped = text.strip()
        if stripped == "":
            return ""
        if not _DECIMAL.fullmatch(stripped):
            raise Problem(f"is {shown(text[:40])!r}; expected a number such as 1.5.")
        return _finite(kind, float(stripped.rstrip("fFdD")))
    return text


def _in_range(kind: FieldType, number: int) -> int:
    lo, hi = kind.integral_limits
    if not lo <= number <= hi:
        raise Problem(f"is out of range for a {kind.value}; expected a whole number from {lo} "
                       f"to {hi}.")
    return number


def _finite(kind: FieldType, number: float) -> float:
    limit = _FLOAT_MAX if kind is FieldType.FLOAT else 1.7976931348623157e308
    if not math.isfinite(number) or abs(number) > limit:
        raise Problem(f"is too large for a {kind.value}; expected a finite number.")
    return number


def _from_json(prop: KuraProperty) -> object:
    if prop.array:
        return [None if v is None else _json_scalar(prop, v) for v in prop.values]
    value = prop.values[0] if prop.values else None
    if value is None:
        return None
    if prop.type is FieldType.PASSWORD and value == PASSWORD_PLACEHOLDER:
        raise Refused(
            "the file holds Kura's placeholder instead of the password (Kura's REST API never "
            "returns passwords), so no password was given; the stored password is kept (none "
            "for a new instance). Type the password in Moorings, or import a snapshot "
            "downloaded from Kura's web UI, which holds it.")
    return _json_scalar(prop, value)


def _json_scalar(prop: KuraProperty, value: object) -> Scalar:
    kind = prop.type
    assert kind is not None
    if kind is FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        raise Problem("is not true or false; a BOOLEAN value is a JSON true or false.")
    if kind in (FieldType.STRING, FieldType.PASSWORD):
        if isinstance(value, str):
            return value
        raise Problem(f"is not text; a {kind.name} value is a JSON string.")
    if kind is FieldType.CHAR:
        if isinstance(value, str) and len(value) == 1:
            return value
        raise Problem("is not one character; a CHAR value is a JSON string of one character.")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Problem(f"is not a number; a {kind.name} value is a JSON number.")
    if kind.is_integral:
        if isinstance(value, float):
            if not value.is_integer():
                raise Problem(f"is {value!r}, not a whole number; Kura would cut it to "
                               f"{int(value)} without a word. Expected a whole number.")
            value = int(value)
        return _in_range(kind, value)
    return _finite(kind, float(value))


def _password(text: str) -> str:
    """The password an ``encrypted="true"`` value holds: Base64 of the plaintext in every
    plaintext export (kura-remote.md §1.7); anything else is refused, never stored."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise Refused("the value is marked encrypted but is not Base64, the form of a "
                       "password in Kura's exports; the stored password is kept (none for a new "
                       "instance). Type the password in Moorings, or download the snapshot "
                       "from Kura's web UI again.") from None
    try:
        plain = raw.decode("utf-8")
    except UnicodeDecodeError:
        plain = None
    if plain is None or _looks_encrypted(plain) or any(
            ord(c) < 0x20 and c not in "\t" for c in plain):
        raise Refused(
            "the value is Kura's encrypted form (from a snapshot file on a gateway's disk), "
            "which only that gateway can decrypt; the stored password is kept (none for a new "
            "instance). Download the snapshot from Kura's web UI (Device, Snapshots, Download), "
            "which holds the password readably, or type the password in Moorings.")
    return plain


# Kura's CryptoService writes ciphertext as Base64(12-byte IV) "-" Base64(AES-GCM output).
_CIPHERTEXT = re.compile(r"[A-Za-z0-9+/]{16}-[A-Za-z0-9+/]{22,}={0,2}")


def _looks_encrypted(text: str) -> bool:
    if not _CIPHERTEXT.fullmatch(text):
        return False
    iv, _, body = text.partition("-")
    try:
        return len(base64.b64decode(iv + "=" * (-len(iv) % 4))) == 12 and \
            len(base64.b64decode(body, validate=True)) >= 16
    except (binascii.Error, ValueError):
        return False

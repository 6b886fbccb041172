"""The engine's own rules for log option values: json-file, local, and the options of every driver.

The engine checks most of these only when the container starts ("failed to initialize logging
driver"), long after the configuration was accepted, and without naming the field. These are
the same rules, applied when the value is typed. Where engines differ (go-units rewrote its
size parser in 2023; gateways run 20.10), only what every one of them accepts passes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from app.errors import SyntaxProblem

# Options the engine takes for every driver but none, before the driver sees the rest.
COMMON_OPTIONS = frozenset({"mode", "max-buffer-size"})
MODES = ("blocking", "non-blocking")
# strconv.ParseBool
TRUE_WORDS = frozenset({"1", "t", "T", "TRUE", "true", "True"})
FALSE_WORDS = frozenset({"0", "f", "F", "FALSE", "false", "False"})
INT64_MAX = 2**63 - 1

# go-units: digits with one optional decimal part, one optional space, then a unit.
_SIZE = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?) ?(?P<unit>[kmgtp](?:i?b)?|b)?",
                   re.ASCII | re.IGNORECASE)
_POWERS = {"": 0, "b": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
# strconv.Atoi, on the 64-bit engines Moorings talks to.
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)

SIZE_HELP = (
    "expected a size such as 10m or 1.5g: digits, optionally with a decimal part, then k, m, "
    "g, t or p (a b may follow), or nothing or b for bytes"
)


def _bytes(text: str, base: int) -> float | None:
    """The size as the engine computes it (a float64), or None when it cannot read it."""
    match = _SIZE.fullmatch(text)
    if match is None:
        return None
    number = float(match["number"])
    if not math.isfinite(number):
        return None  # ParseFloat: value out of range
    unit = (match["unit"] or "").lower()[:1]
    return number * float(base ** _POWERS[unit])


def _item(key: str, options: Mapping[str, str]) -> str:
    return f"{key}={options[key]}"


def _size(key: str, options: Mapping[str, str], driver: str, base: int, least: int) -> None:
    item = _item(key, options)
    size = _bytes(options[key], base)
    if size is None:
        raise SyntaxProblem(f"{item} is not a size; {SIZE_HELP}", item=item)
    # The engine turns the float into an int64: from 2^63 on, it wraps to a negative number.
    if size >= 2.0**63:
        raise SyntaxProblem(
            f"{item} is more than the engine can count; expected at most {INT64_MAX} bytes, "
            "such as 10m",
            item=item,
        )
    if int(size) < least:
        raise SyntaxProblem(
            f"{item} is less than 1 byte, and the {driver} logger needs a {key} of at least "
            f"1 byte; {SIZE_HELP}",
            item=item,
        )


def _count(key: str, options: Mapping[str, str], driver: str, least: int) -> int:
    item = _item(key, options)
    text = options[key]
    if _INTEGER.fullmatch(text) and least <= int(text) <= INT64_MAX:
        return int(text)
    raise SyntaxProblem(
        f"{item} is not a number of files the {driver} logger can keep; expected a whole "
        f"number from {least}, such as 3",
        item=item,
    )


def _flag(key: str, options: Mapping[str, str]) -> bool:
    text = options[key]
    if text in TRUE_WORDS or text in FALSE_WORDS:
        return text in TRUE_WORDS
    item = _item(key, options)
    raise SyntaxProblem(
        f"{item} is not a yes/no value; expected true or false (1, 0, t and f work too)",
        item=item,
    )


def check_common_options(options: Mapping[str, str]) -> None:
    """mode and max-buffer-size, which the engine checks for every driver but none."""
    mode = options.get("mode", "")
    if mode and mode not in MODES:
        item = _item("mode", options)
        raise SyntaxProblem(
            f"{item} is not a way to deliver logs; expected mode=blocking or "
            "mode=non-blocking (in lower case), or no mode for the engine's default",
            item=item,
        )
    if "max-buffer-size" in options:
        item = _item("max-buffer-size", options)
        if mode != "non-blocking":
            raise SyntaxProblem(
                f"{item} works only with mode=non-blocking; expected mode=non-blocking with it, "
                "or no max-buffer-size",
                item=item,
            )
        _size("max-buffer-size", options, "", 1024, 0)


def check_json_file(options: Mapping[str, str]) -> None:
    """The json-file driver: max-size of at least a byte, max-file from 1, compress when both."""
    if "max-size" in options:
        _size("max-size", options, "json-file", 1000, 1)
    files = _count("max-file", options, "json-file", 1) if "max-file" in options else 1
    compress = "compress" in options and _flag("compress", options)
    if compress and (files < 2 or "max-size" not in options):
        item = _item("compress", options)
        raise SyntaxProblem(
            f"{item} needs a max-file of 2 or more and a max-size, since only rotated files "
            "are compressed; expected max-size and max-file=2 or more with it, or "
            "compress=false",
            item=item,
        )


def check_local(options: Mapping[str, str]) -> None:
    """The local driver: max-size, max-file from 0, and compression (on by default) needs 2."""
    if "max-size" in options:
        _size("max-size", options, "local", 1000, 0)
    files = _count("max-file", options, "local", 0) if "max-file" in options else 5
    compress = _flag("compress", options) if "compress" in options else True
    if compress and files <= 1:
        item = _item("max-file", options)
        raise SyntaxProblem(
            f"{item} leaves no rotated file to compress, and the local logger compresses them "
            "unless told not to; expected max-file=2 or more, or compress=false with it",
            item=item,
        )


VALUE_RULES = {"json-file": check_json_file, "local": check_local}

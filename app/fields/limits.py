"""Resource limits: the Memory, CPUs and GPUs fields."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

from app.errors import SyntaxProblem

MIN_MEMORY = 6 * 1024 * 1024
MAX_MEMORY = 2**63 - 1
MIN_CPUS = 0.01
MAX_CPUS = 9_223_372_036.0  # NanoCPUs (cpus * 1e9) is a signed 64-bit integer
MAX_GPUS = 2**31 - 1

_NUMBER = r"(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?"
_MEMORY = re.compile(_NUMBER + r"\s*(?P<unit>[kmg]b?|b)?", re.ASCII | re.IGNORECASE)
_DECIMAL = re.compile(_NUMBER, re.ASCII)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_MEMORY_HELP = (
    "expected a number of bytes, or a number followed by b, k, m or g (in any case, optionally "
    "followed by b; powers of 1024), such as 512m or 1.5g, of at least 6m; leave empty for no limit"
)
_CPUS_HELP = (
    "expected a number of CPUs from 0.01, with at most 3 decimals, such as 1.5; leave empty "
    "for no limit"
)


def _number(match: re.Match[str]) -> tuple[str, str] | None:
    """The integer and fraction digits of a match, or None when there are no digits at all."""
    whole, fraction = match["int"], match["frac"] or ""
    if not whole and not fraction:
        return None
    return whole, fraction


def parse_memory_size(text: str) -> int | None:
    """Convert a memory size into bytes (rounded down), without the minimum; empty is None."""
    value = text.strip()
    if not value:
        return None
    match = _MEMORY.fullmatch(value)
    digits = None if match is None else _number(match)
    if match is None or digits is None:
        raise SyntaxProblem(f"{value} is not a memory size; {_MEMORY_HELP}")
    whole, fraction = digits
    if len(whole.lstrip("0")) > 19:
        raise SyntaxProblem(
            f"{value} is more memory than the engine can count; expected at most {MAX_MEMORY} bytes"
        )
    unit = (match["unit"] or "").lower()[:1]
    # Digits past the 40th decimal cannot change the rounded-down byte count.
    fraction = fraction[:40]
    amount = Fraction(int(whole.lstrip("0") or "0")) + Fraction(
        int(fraction or "0"), 10 ** len(fraction)
    )
    size = math.floor(amount * _UNITS[unit])
    if size > MAX_MEMORY:
        raise SyntaxProblem(
            f"{value} is more memory than the engine can count; expected at most {MAX_MEMORY} bytes"
        )
    return size


def parse_memory(text: str) -> int | None:
    """Parse the Memory field into bytes (rounded down), at least 6m; empty means no limit."""
    size = parse_memory_size(text)
    if size is not None and size < MIN_MEMORY:
        raise SyntaxProblem(
            f"{text.strip()} ({size} bytes) is below the engine's minimum; expected at least 6m "
            f"({MIN_MEMORY} bytes), or leave empty for no limit"
        )
    return size


def parse_cpus(value: str | float | int) -> float | None:
    """Parse the CPUs field (text or number); empty means no limit (None)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        match = _DECIMAL.fullmatch(text)
        digits = None if match is None else _number(match)
        if digits is None:
            raise SyntaxProblem(f"{text} is not a number; {_CPUS_HELP}")
        whole, fraction = digits
        if len(fraction.rstrip("0")) > 3:
            raise SyntaxProblem(f"{text} has more than 3 decimals; {_CPUS_HELP}")
        if len(whole.lstrip("0")) > 10:
            raise SyntaxProblem(f"{text} is more CPUs than the engine can count; {_CPUS_HELP}")
        number = float(Decimal(f"{whole or '0'}.{fraction or '0'}"))
        shown = text
    elif isinstance(value, bool):
        raise SyntaxProblem(f"{value} is not a number; {_CPUS_HELP}")
    else:
        shown = repr(value)
        try:
            number = float(value)
        except OverflowError:
            raise SyntaxProblem(
                f"{shown} is more CPUs than the engine can count; {_CPUS_HELP}"
            ) from None
        if not math.isfinite(number):
            raise SyntaxProblem(f"{shown} is not a finite number; {_CPUS_HELP}")
        if abs(number - round(number, 3)) > 1e-6 * max(1.0, abs(number)):
            raise SyntaxProblem(f"{shown} has more than 3 decimals; {_CPUS_HELP}")
    number = round(number, 3)
    if number < MIN_CPUS:
        raise SyntaxProblem(f"{shown} is less than 0.01 CPUs; {_CPUS_HELP}")
    if number > MAX_CPUS:
        raise SyntaxProblem(f"{shown} is more CPUs than the engine can count; {_CPUS_HELP}")
    return number


def parse_gpus(text: str) -> int | None:
    """Parse the GPUs field: None when empty, -1 for all (any case), else a positive count."""
    value = text.strip()
    if not value:
        return None
    if value.isascii() and value.lower() == "all":
        return -1
    if value.isascii() and value.isdigit():
        significant = value.lstrip("0")
        if significant and len(significant) <= 10 and int(significant) <= MAX_GPUS:
            return int(significant)
    raise SyntaxProblem(
        f"{value} is not a GPU count; expected all (every GPU), or a whole number of GPUs from 1, "
        "such as 2; leave empty for none"
    )

"""Image digests as a person writes them: one ``sha256:<hex>``, or an allowlist of them."""

from __future__ import annotations

import re

from app.errors import SyntaxProblem
from app.fields.text import shown

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_EXPECTED = "expected sha256: followed by 64 hexadecimal digits"
# Kura's code splits the allowlist on line breaks, its documentation says comma-separated:
# both are taken, and spaces around entries too.
_SEPARATORS = re.compile(r"[\s,;]+")


def parse_digest(text: str) -> str:
    """One image digest (empty allowed: no digest); upper-case hex is taken as lower-case."""
    value = text.strip()
    if not value:
        return ""
    lowered = value.lower()
    if not DIGEST.fullmatch(lowered):
        raise SyntaxProblem(f"{shown(value)} is not an image digest; {_EXPECTED}, such as "
                            "sha256:" + "0" * 12 + "...", item=shown(value))
    return lowered


def parse_allowlist(text: str) -> frozenset[str]:
    """Digests one per line, or separated by commas or spaces; every entry must be one."""
    out: set[str] = set()
    for entry in _SEPARATORS.split(text):
        if not entry:
            continue
        lowered = entry.lower()
        if not DIGEST.fullmatch(lowered):
            hint = ""
            if "@" in entry:
                hint = " (write only the part after @)"
            raise SyntaxProblem(f"{shown(entry)} is not an image digest{hint}; {_EXPECTED}, one "
                                "per line (commas and spaces also separate entries)",
                                item=shown(entry))
        out.add(lowered)
    return frozenset(out)

"""Comma-separated lists as Kura writes them, with backslash escapes for commas and backslashes."""

from __future__ import annotations

from collections.abc import Iterable

from app.errors import SyntaxProblem

# A line break separates items too: multi-line fields invite one item per line, and Kura's
# syntax has no other use for it (a value can never contain a line break).
_SEPARATORS = ",\n\r"
_ESCAPE_HELP = "expected \\, for a comma inside an item or \\\\ for a backslash"


def _raw_item(text: str, start: int) -> str:
    """Return the written (still escaped) item that begins at ``start``, trimmed."""
    i = start
    while i < len(text) and text[i] not in _SEPARATORS:
        i += 2 if text[i] == "\\" else 1
    return text[start:i].strip()


def split_list(text: str) -> list[str]:
    """Split a comma-separated list into trimmed, unescaped, non-empty items.

    ``\\,`` is a comma inside an item and ``\\\\`` a backslash; a line break separates items
    like a comma; empty items (such as the one after a trailing comma in ``22,``) are dropped,
    as Kura does.
    """
    items: list[str] = []
    current: list[str] = []
    start = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text):
                item = _raw_item(text, start)
                raise SyntaxProblem(f"{item} ends with a lone backslash; {_ESCAPE_HELP}", item=item)
            escaped = text[i + 1]
            if escaped not in ",\\":
                item = _raw_item(text, start)
                raise SyntaxProblem(
                    f"{item} contains \\{escaped}, which is not an escape; {_ESCAPE_HELP}",
                    item=item,
                )
            current.append(escaped)
            i += 2
            continue
        if char in _SEPARATORS:
            value = "".join(current).strip()
            if value:
                items.append(value)
            current = []
            start = i + 1
        else:
            current.append(char)
        i += 1
    value = "".join(current).strip()
    if value:
        items.append(value)
    return items


def escape_item(item: str) -> str:
    """Escape one item so that it can be written inside a comma-separated list."""
    return item.replace("\\", "\\\\").replace(",", "\\,")


def join_list(items: Iterable[str]) -> str:
    """Write items as a comma-separated list that ``split_list`` reads back unchanged.

    Refuses (with SyntaxProblem) an empty item or one with leading or trailing whitespace,
    since the list syntax cannot hold them.
    """
    written: list[str] = []
    for item in items:
        if not item or item != item.strip() or "\n" in item or "\r" in item:
            raise SyntaxProblem(
                f"{item!r} cannot be written in a comma-separated list; expected an item that "
                "is not empty, has no line break and does not begin or end with whitespace",
                item=item,
            )
        written.append(escape_item(item))
    return ", ".join(written)

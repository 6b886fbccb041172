"""Characters a value cannot carry to the engine, and a safe way to show any text in a message."""

from __future__ import annotations

from app.errors import SyntaxProblem, shown

__all__ = ["first_unpassable", "refuse_unpassable", "shown"]

_EXPECTED = (
    "expected text without NUL characters and unpaired surrogates (a NUL ends a program "
    "argument, a path or a variable early, and the engine replaces an unpaired surrogate "
    "with another character)"
)


def _is_surrogate(char: str) -> bool:
    return "\ud800" <= char <= "\udfff"


def first_unpassable(text: str) -> str | None:
    """What in ``text`` cannot reach a container unchanged, in words; None when nothing.

    A NUL cannot be in a program argument, an environment variable or a path (the kernel's
    strings end at it); an unpaired surrogate has no UTF-8 form, so the engine, which reads
    JSON as UTF-8, puts U+FFFD in its place.
    """
    if "\0" in text:
        return "a NUL character"
    if any(_is_surrogate(char) for char in text):
        return "an unpaired surrogate"
    return None


def refuse_unpassable(text: str, items: list[str] | None = None, *, secret: bool = False) -> None:
    """Raise SyntaxProblem if ``text`` holds a character the engine cannot pass on.

    ``items`` are the value's list items, if it is a list: the first one at fault is named.
    A secret is never shown, not even in part.
    """
    what = first_unpassable(text)
    if what is None:
        return
    if secret:
        raise SyntaxProblem(f"the value contains {what}; {_EXPECTED}")
    for item in items or ():
        in_item = first_unpassable(item)
        if in_item is not None:
            raise SyntaxProblem(f"{shown(item)} contains {in_item}; {_EXPECTED}", item=shown(item))
    raise SyntaxProblem(f"{shown(text)} contains {what}; {_EXPECTED}")

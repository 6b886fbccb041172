"""The Environment Variables field: comma-separated NAME=value pairs."""

from __future__ import annotations

from app.errors import SyntaxProblem
from app.fields.lists import split_list

_EXPECTED = "expected NAME=value, such as example_var_1=123 (NAME= for an empty value)"


def parse_env_item(item: str) -> tuple[str, str]:
    """Parse one ``NAME=value`` item; the value is everything after the first ``=``."""
    name, equals, value = item.partition("=")
    if not equals:
        raise SyntaxProblem(f"{item} has no = sign; {_EXPECTED}", item=item)
    if not name:
        raise SyntaxProblem(f"{item} has no name before the = sign; {_EXPECTED}", item=item)
    if any(char.isspace() for char in name):
        raise SyntaxProblem(
            f"the name {name.strip()!r} in {item} contains whitespace; expected a name without "
            "spaces directly followed by =, such as example_var_1=123",
            item=item,
        )
    if "\0" in item:
        raise SyntaxProblem(
            f"{item!r} contains a NUL character, which an environment variable cannot hold; "
            f"{_EXPECTED}",
            item=item,
        )
    return name, value


def parse_env(text: str) -> list[tuple[str, str]]:
    """Parse the Environment Variables field into (name, value) pairs, in written order."""
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in split_list(text):
        name, value = parse_env_item(item)
        if name in seen:
            raise SyntaxProblem(
                f"{name} is set more than once (again in {item}); expected each variable "
                "once, since only one value can win",
                item=item,
            )
        seen.add(name)
        pairs.append((name, value))
    return pairs

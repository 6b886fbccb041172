"""Error types shared by the parsers, the configuration model and the command line."""

from __future__ import annotations

from functools import cache

from app.redact import mask_credentials


@cache
def _escapes() -> dict[int, str]:
    # Control characters and unpaired surrogates are written as escapes: a message goes to a
    # terminal, a log or a label, where the character itself would vanish, garble or fail to
    # encode. Built at the first message, not at import (the window imports this module
    # before its first frame).
    escapes = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)}
    escapes.update({0: "\\0", 9: "\\t", 10: "\\n", 13: "\\r"})
    escapes.update({code: f"\\u{code:04x}" for code in range(0xD800, 0xE000)})
    return escapes


def shown(text: str) -> str:
    """``text`` as it may appear in a message: control characters and lone surrogates escaped."""
    return text.translate(_escapes())


class SyntaxProblem(ValueError):
    """A value does not follow its field's syntax.

    Raised by the parsers in ``app.fields``. ``message`` is a sentence that says what is
    wrong and what is expected; ``item`` is the offending part of the value (one element of
    a comma-separated list, say), or None when the whole value is at fault.
    """

    def __init__(self, message: str, item: str | None = None) -> None:
        # A value may hold an address with a password in it (an environment variable's URL,
        # a logger's endpoint): what a message shows of it never includes the password.
        message = mask_credentials(message)
        super().__init__(message)
        self.message = message
        self.item = None if item is None else mask_credentials(item)


class FieldError:
    """One problem with one field of one component, ready to show to a person (immutable)."""

    # Written out rather than a frozen dataclass: the window imports this module before its
    # first frame, where the dataclass machinery (its module and the generated methods) cost
    # several milliseconds of a start measured against a bare window.
    __slots__ = ("component", "field_id", "field_name", "item", "message")

    field_id: str
    field_name: str
    message: str
    item: str | None
    component: str | None

    def __init__(self, field_id: str, field_name: str, message: str, item: str | None = None,
                 component: str | None = None) -> None:
        set_ = object.__setattr__
        set_(self, "field_id", field_id)
        set_(self, "field_name", field_name)
        set_(self, "message", mask_credentials(message))
        set_(self, "item", None if item is None else mask_credentials(item))
        set_(self, "component", component)

    def _key(self) -> tuple[str, str, str, str | None, str | None]:
        return (self.field_id, self.field_name, self.message, self.item, self.component)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"FieldError is immutable: cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"FieldError is immutable: cannot delete {name}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, FieldError)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[type[FieldError], tuple[str, str, str, str | None, str | None]]:
        return (FieldError, self._key())  # copies and pickles go through __init__

    def __repr__(self) -> str:
        return ("FieldError(field_id={!r}, field_name={!r}, message={!r}, item={!r}, "
                "component={!r})".format(*self._key()))

    def __str__(self) -> str:
        where = f"{shown(self.component)}: " if self.component else ""
        bad = f" [{shown(self.item)}]" if self.item is not None else ""
        return shown(f"{where}{self.field_name} ({self.field_id}){bad}: ") + shown(self.message)


class ConfigError(ValueError):
    """A configuration was refused; ``errors`` lists every problem found, not just the first."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class StoreError(RuntimeError):
    """The configuration store cannot be read or written; the message is for a person."""

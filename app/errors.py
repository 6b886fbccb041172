"""Error types shared by the parsers, the configuration model and the command line."""

from __future__ import annotations

from dataclasses import dataclass

from app.redact import mask_credentials

# Control characters and unpaired surrogates are written as escapes: a message goes to a
# terminal, a log or a label, where the character itself would vanish, garble or fail to encode.
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)}
_ESCAPES.update({0: "\\0", 9: "\\t", 10: "\\n", 13: "\\r"})
_ESCAPES.update({code: f"\\u{code:04x}" for code in range(0xD800, 0xE000)})


def shown(text: str) -> str:
    """``text`` as it may appear in a message: control characters and lone surrogates escaped."""
    return text.translate(_ESCAPES)


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


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of one component, ready to show to a person."""

    field_id: str
    field_name: str
    message: str
    item: str | None = None
    component: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", mask_credentials(self.message))
        if self.item is not None:
            object.__setattr__(self, "item", mask_credentials(self.item))

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

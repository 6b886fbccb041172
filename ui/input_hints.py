"""What an on-screen keyboard is told about each kind of text entry.

Container names, images, tags, ports, paths and hosts are case-sensitive and are never words:
a keyboard must not capitalise the first letter ("gui" typed as "Gui") or swap a word for a
dictionary one. Each kind also opens the layout it needs first (digits for ports and sizes).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit

Hint = Qt.InputMethodHint

TECHNICAL = Hint.ImhNoAutoUppercase | Hint.ImhNoPredictiveText | Hint.ImhPreferLowercase
"""Names, images, tags, paths, environment and arguments: exactly what is typed."""
NUMERIC_TEXT = TECHNICAL | Hint.ImhPreferNumbers
"""Ports ("8080:80/tcp"), memory ("512m"), CPUs ("1.5"): mostly digits, some letters."""
URL = TECHNICAL | Hint.ImhUrlCharactersOnly
"""An engine or registry address (tcp://gateway:2376, registry.example.com:5000)."""
SECRET = (Hint.ImhHiddenText | Hint.ImhSensitiveData | Hint.ImhNoPredictiveText
          | Hint.ImhNoAutoUppercase)
"""A password: not remembered, not predicted, not capitalised."""

# A field's kind, from its metatype syntax or role (data: no field id is named here).
_BY_SYNTAX = {
    "ports-internal": NUMERIC_TEXT,
    "ports-external": NUMERIC_TEXT,
    "memory": NUMERIC_TEXT,
    "cpus": NUMERIC_TEXT,
    "gpus": NUMERIC_TEXT,
    "registry-url": URL,
}
_BY_ROLE = {
    "engine-host": URL,
    "registry": URL,
}


def hints_for(syntax: str | None, role: str | None) -> Qt.InputMethodHint:
    """The hints of a free-text field of this syntax or role (TECHNICAL when unknown)."""
    if syntax in _BY_SYNTAX:
        return _BY_SYNTAX[syntax]
    if role in _BY_ROLE:
        return _BY_ROLE[role]
    return TECHNICAL


def technical(edit: QLineEdit | QPlainTextEdit) -> None:
    """Mark a search box or a name entry as technical text."""
    edit.setInputMethodHints(TECHNICAL)

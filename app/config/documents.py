"""Configuration files a person names: reading one to import (bounded, regular files only, any
encoding the codec knows) and writing an export (atomically, 0600 when it holds passwords)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from app.errors import shown

# A configuration is kilobytes; this bounds what a wrong FILE (or a device) can make us read.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
_USE_A_FILE = "expected a configuration file, or - to read standard input"
_NOT_REGULAR = {
    stat.S_IFDIR: "a folder, not a file",
    stat.S_IFIFO: "a named pipe, not a regular file",
    stat.S_IFCHR: "a device, not a regular file",
    stat.S_IFBLK: "a device, not a regular file",
    stat.S_IFSOCK: "a socket, not a regular file",
}


class InputProblem(Exception):
    """FILE cannot be read as a document; the message is a sentence for a person."""


class OutputProblem(Exception):
    """An export could not be written; the message is a sentence for a person."""


def _read_file(name: str) -> bytes:
    shown_name = shown(name)
    try:
        # Non-blocking: opening a named pipe must not wait for a writer that never comes.
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputProblem(f"{shown_name} does not exist; {_USE_A_FILE}.") from None
    except IsADirectoryError:
        raise InputProblem(f"{shown_name} is a folder, not a file; {_USE_A_FILE}.") from None
    except OSError as exc:
        raise InputProblem(
            f"{shown_name} cannot be opened ({exc.strerror or exc}); {_USE_A_FILE}.") from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise InputProblem(f"{shown_name} cannot be read ({exc.strerror or exc}).") from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = _NOT_REGULAR.get(stat.S_IFMT(mode), "not a regular file")
        pipe = f" (as in: moorings config import - < {shown_name})" if stat.S_ISFIFO(mode) else ""
        raise InputProblem(f"{shown_name} is {kind}; {_USE_A_FILE}{pipe}.")
    with os.fdopen(fd, "rb") as file:
        try:
            return file.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            raise InputProblem(f"{shown_name} cannot be read ({exc.strerror or exc}).") from None


def _read_stdin() -> bytes:
    stream = sys.stdin
    if stream is None:
        raise InputProblem("there is no standard input to read; expected a configuration file.")
    binary = getattr(stream, "buffer", None)
    try:
        if binary is not None:
            data: bytes = binary.read(MAX_DOCUMENT_BYTES + 1)
            return data
        return str(stream.read(MAX_DOCUMENT_BYTES + 1)).encode("utf-8", "surrogatepass")
    except OSError as exc:
        raise InputProblem(f"standard input cannot be read ({exc.strerror or exc}).") from None


def read_document(name: str) -> str:
    """The text of FILE (``-`` for standard input), or InputProblem saying why it has none."""
    from app.config.kura import CodecError, decode_text

    data = _read_stdin() if name == "-" else _read_file(name)
    source = "standard input" if name == "-" else shown(name)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputProblem(
            f"{source} holds more than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB, far more "
            "than a configuration; expected a document such as moorings config export "
            "writes.")
    try:
        return decode_text(data)
    except CodecError as exc:
        raise InputProblem(str(exc).replace("The file", source, 1)) from None


def write_export(path: Path, data: bytes, *, holds_secrets: bool) -> None:
    """Write an export whole or not at all; only its owner may read it when it holds
    passwords. Raises OutputProblem with a sentence."""
    from app.config.atomic import atomic_write

    try:
        atomic_write(path, data, 0o600 if holds_secrets else 0o644)
    except OSError as exc:
        raise OutputProblem(f"{shown(str(path))} could not be written ({exc.strerror or exc}); "
                            "nothing was written there.") from None

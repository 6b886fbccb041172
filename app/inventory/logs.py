"""Opening a container's logs for the window (through the orchestrator's engine), and saving
the lines a person chose to keep."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from app.config.atomic import atomic_write
from app.engine.log_stream import EndCallback, LineCallback, LogStream
from app.orchestrator.service import Orchestrator


def open_logs(orchestrator: Orchestrator, id: str, *, follow: bool, tail: int | str = 500,
              on_line: LineCallback, on_end: EndCallback) -> LogStream:
    """Start reading a container's logs (the last ``tail`` lines, then new ones if ``follow``).

    Never blocks: the container is inspected on the reader's thread first, and a log driver the
    engine cannot read back ends the stream with a sentence through ``on_end``, not a failure.
    """
    conn = orchestrator.connection()
    not_connected = None if conn.connected else (
        f"the engine is not connected: {conn.reason or 'not yet'}")
    stream = LogStream(orchestrator.target(), id, follow=follow, tail=tail, on_line=on_line,
                       on_end=on_end, not_connected=not_connected)
    stream.start()
    return stream


def format_line(line: str | tuple[str, str, str]) -> str:
    """A line as ``docker logs --timestamps`` prints it (text is taken as it is)."""
    if isinstance(line, str):
        return line.rstrip("\n")
    timestamp, text, _stream = line
    return f"{timestamp} {text}" if timestamp else text


def save_logs(lines: Iterable[str | tuple[str, str, str]], path: Path | str) -> None:
    """Write the lines to ``path``, one a line: a (timestamp, text, stream) tuple (a LogLine) as
    ``docker logs --timestamps`` prints it, a text as it is. The file is replaced whole (a
    crash leaves the old file or the new one). Blocks on the disk: call it off the GUI thread.
    """
    text = "".join(format_line(line) + "\n" for line in lines)
    atomic_write(Path(path), text.encode("utf-8"))

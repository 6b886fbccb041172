"""CONF-V1's snapshots: the whole configuration in Kura XML (without passwords), one file per
snapshot in the folder's ``snapshots/``, named by an id in epoch milliseconds that only grows."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from pathlib import Path

from app.config.atomic import atomic_write
from app.config.kura import ExportFormat, export_view
from app.config.repository import ConfigRepository

KEEP = 10  # as Kura's default kura.snapshots.count
_NAME = re.compile(r"snapshot_(\d+)\.xml")


class Snapshots:
    def __init__(self, folder: Path, repository: ConfigRepository) -> None:
        self.folder = folder / "snapshots"
        self._repo = repository
        self._lock = threading.Lock()

    def ids(self) -> list[int]:
        try:
            names = [p.name for p in self.folder.iterdir()]
        except OSError:
            return []
        return sorted(int(m.group(1)) for n in names if (m := _NAME.fullmatch(n)))

    def read(self, snapshot_id: int) -> bytes | None:
        try:
            return (self.folder / f"snapshot_{snapshot_id}.xml").read_bytes()
        except OSError:
            return None

    def take(self) -> int:
        """Write the configuration in force as a new snapshot; return its id."""
        data = export_view(ExportFormat.KURA_XML, self._repo, self._repo.catalog)
        with self._lock:
            ids = self.ids()
            sid = max(int(time.time() * 1000), (ids[-1] + 1) if ids else 0)
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write(self.folder / f"snapshot_{sid}.xml", data)
            for old in ids[:max(0, len(ids) + 1 - KEEP)]:
                with contextlib.suppress(OSError):
                    (self.folder / f"snapshot_{old}.xml").unlink()
        return sid

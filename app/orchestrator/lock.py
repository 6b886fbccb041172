"""One orchestrator per configuration folder: an advisory lock that names its holder."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from app.errors import StoreError
from app.paths import ensure_dir

LOCK_NAME = "orchestrator.lock"


class FolderLock:
    """Held for the life of the orchestrator; the kernel drops it if the process dies."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / LOCK_NAME
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        return self._path

    def acquire(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreError(
                f"Another Moorings (process {holder}) is already running the configuration in "
                f"{self._path.parent}; stop it first, or use another --config-dir.") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def claim_folder(folder: Path) -> FolderLock:
    """Create the configuration folder if needed and hold its lock; StoreError says why not."""
    ensure_dir(folder)
    lock = FolderLock(folder)
    lock.acquire()
    return lock

"""One orchestrator per configuration folder: an advisory lock that names its holder."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from app.config.folder import check_folder
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
        folder = self._path.parent
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
        try:
            fd = os.open(self._path, flags, 0o644)
        except OSError as exc:
            why = exc.strerror or str(exc)
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise StoreError(
                    f"Moorings cannot run the configuration in {folder}: it may not write that "
                    f"folder ({why}). Run it as the folder's owner, or use another "
                    "--config-dir.") from None
            if exc.errno == errno.ELOOP:
                raise StoreError(f"{self._path} is a symbolic link; remove it.") from None
            raise StoreError(f"Moorings cannot run the configuration in {folder}: {self._path} "
                             f"cannot be created ({why}).") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreError(
                f"Another Moorings (process {holder}) is already running the configuration in "
                f"{folder}; stop it first, or use another --config-dir.") from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except OSError:
            # A full disk: the lock itself holds (the kernel keeps it, not the file); only the
            # process id a second Moorings would name is missing. The gateway's containers
            # still need their orchestrator, so go on.
            pass
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


def _holder_from_proc(path: Path) -> int | None:
    """Who holds an flock on ``path``, from /proc/locks (Linux), without taking any lock."""
    st = os.stat(path)
    device = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    with open("/proc/locks", encoding="ascii", errors="replace") as locks:
        for line in locks:
            parts = line.split()
            # "1: FLOCK  ADVISORY  WRITE 1234 08:01:123456 0 EOF" (blocked waiters have "->")
            if len(parts) >= 6 and parts[1] == "FLOCK" and parts[3] == "WRITE" \
                    and parts[5] == device:
                return int(parts[4]) if parts[4].isdigit() else 0
    return None


def holder(folder: Path) -> int | None:
    """The process id of the Moorings running ``folder`` now (0 if it is not known), or None."""
    path = folder / LOCK_NAME
    try:
        return _holder_from_proc(path)
    except FileNotFoundError:
        return None
    except OSError:
        pass
    # No /proc/locks: try a shared lock for an instant (a Moorings starting in that instant
    # would be told the folder is taken, hence /proc first).
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 64, 0).decode("ascii", errors="replace").strip()
            return int(text) if text.isdigit() else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def claim_folder(folder: Path) -> FolderLock:
    """Create the configuration folder if needed and hold its lock; StoreError says why not."""
    check_folder(folder)
    ensure_dir(folder)
    lock = FolderLock(folder)
    lock.acquire()
    return lock

"""Crash-safe file replacement: readers see the whole old file or the whole new one."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from app import threadguard as guard

__all__ = ["atomic_write", "read_bytes", "remove_stale_temps", "temp_target_name"]

# Leftover-temp policy: a writer killed mid-write leaves at most one ".<name>.tmp-<random>" file
# beside the target (the one it was writing), and the target stays whole. atomic_write never
# removes other temps, since a concurrent writer may own them; whoever opens the folder at
# start-up, under the lock (ConfigStore.load), calls remove_stale_temps for the files it owns.
_TEMP_INFIX = ".tmp-"


def _temp_prefix(name: str) -> str:
    # A leading dot hides the file from casual listings, and keeping the target's full name in
    # it lets the owner of each file recognise (and clean) its own leftovers.
    return f".{name}{_TEMP_INFIX}"


def temp_target_name(name: str) -> str | None:
    """Return the target file name if ``name`` is a temp file left by atomic_write, else None."""
    if not name.startswith(".") or _TEMP_INFIX not in name:
        return None
    target, _, token = name[1:].rpartition(_TEMP_INFIX)
    if not target or not token:
        return None
    return target


def _create_temp(folder: Path, name: str, mode: int) -> tuple[int, Path]:
    prefix = _temp_prefix(name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        candidate = folder / f"{prefix}{os.urandom(6).hex()}"
        try:
            # The final mode is given at creation (the umask can only narrow it) so that a
            # secret is never readable by others, not even for the moment before fchmod.
            fd = os.open(candidate, flags, mode)
        except FileExistsError:
            continue
        return fd, candidate
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(folder / prefix))


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        # Windows cannot open a folder as a file; NTFS journals the rename itself.
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some filesystems (certain FUSE and network mounts) refuse fsync on a folder; the
        # data itself is already on disk, so the rename is as durable as that mount allows.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` so that a crash at any point leaves the old or new file.

    The file ends up with exactly ``mode`` whatever the umask. Raises OSError on failure, in
    which case the target is unchanged and no temporary file is left behind.
    """
    guard.check()
    path = Path(path)
    folder = path.parent
    fd, temp = _create_temp(folder, path.name, mode)
    replaced = False
    try:
        try:
            stream = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
        with stream:
            if hasattr(os, "fchmod"):
                # The umask may have narrowed the creation mode; a public file must stay public.
                os.fchmod(stream.fileno(), mode)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
        replaced = True
    except BaseException:
        if not replaced:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise
    _fsync_folder(folder)


def read_bytes(path: Path) -> bytes | None:
    """Return the content of ``path``, or None if it does not exist."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return None


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete temp files an interrupted atomic_write of ``path`` left behind; return them.

    Only safe while no other process is writing ``path`` (the caller holds the lock).
    """
    path = Path(path)
    removed: list[Path] = []
    try:
        entries = list(path.parent.iterdir())
    except FileNotFoundError:
        return removed
    for entry in entries:
        if temp_target_name(entry.name) == path.name:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed.append(entry)
    return removed

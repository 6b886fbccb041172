"""The configuration folder's rules: only its owner writes it, its files are regular files, and
one writer at a time across every process.

The rule is ssh's for its keys: the folder holds registry passwords, so a folder that someone
else could write (and so replace a file in) is refused, and so is a configuration file that is
a symbolic link or not a regular file (a FIFO would hang a reader; replacing a link by rename
would silently leave its target behind with the old configuration).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from app import threadguard as guard
from app.errors import StoreError

__all__ = ["LOCK_WAIT_S", "check_folder", "read_regular", "write_lock"]

# A writer holds the lock for two small fsync'd writes; 30 s means something is stuck.
LOCK_WAIT_S = 30.0
_POLL_S = 0.01


def _owner_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"


def check_folder(folder: Path) -> None:
    """Raise StoreError unless ``folder`` (when it exists) is a folder that only you or root own
    and only its owner can write."""
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(
            f"The configuration folder {folder} cannot be examined: {exc.strerror or exc}."
        ) from None
    if not stat.S_ISDIR(st.st_mode):
        raise StoreError(f"The configuration folder {folder} is not a folder.")
    if os.name != "posix":
        return
    if st.st_uid not in (os.getuid(), 0):
        raise StoreError(
            f"The configuration folder {folder} belongs to {_owner_name(st.st_uid)}, not to you. "
            "It holds registry passwords, so Moorings uses only a folder that you (or root) own: "
            "use a folder of your own with --config-dir, or run Moorings as its owner."
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        raise StoreError(
            f"The configuration folder {folder} can be written by other users (mode {mode:04o}), "
            "so anyone could replace its files. Make it writable by its owner only "
            f"(chmod go-w {folder}), or use another --config-dir."
        )


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _symlink_problem(path: Path) -> StoreError:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    dangling = "" if os.path.exists(path) else ", which does not exist"
    return StoreError(
        f"{path} is a symbolic link (to {target}{dangling}). Moorings keeps its configuration "
        "only in regular files: saving through a link would replace the link and leave its "
        "target with the old configuration. Replace the link with a copy of the file it points "
        "to, or use the target's folder as --config-dir."
    )


def read_regular(path: Path) -> bytes | None:
    """The content of ``path``, or None if there is none.

    Raises StoreError if ``path`` is a symbolic link (dangling or not) or not a regular file,
    and OSError if it cannot be read. Never follows a link and never blocks on a FIFO.
    """
    guard.check()
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _symlink_problem(path) from None
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO opened for writing
            raise StoreError(f"{path} is not a regular file; move it away.") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise StoreError(f"{path} is {_kind(st.st_mode)}, not a regular file; move it away "
                             "so that Moorings can keep its configuration there.")
        chunks: list[bytes] = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


@contextlib.contextmanager
def write_lock(folder: Path, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold the folder's write lock (an flock on the folder itself, so no file is added).

    Every reader-writer of the configuration (the window, headless mode, each ``config``
    command) takes it around read-modify-write, so no writer loses another's change and no
    loader removes a live writer's temporary file. The wait is bounded: StoreError after
    ``wait_s``.
    """
    guard.check()
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise StoreError(
            f"The configuration folder {folder} cannot be opened: {exc.strerror or exc}."
        ) from None
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"Another process has been changing the configuration in {folder} for "
                        f"over {wait_s:g} s, so nothing was changed. Try again; if it happens "
                        "again, look for a stuck moorings process."
                    ) from None
                time.sleep(_POLL_S)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

"""Where a person is likely to keep a configuration file: a USB stick's mount point first (how
files reach a gateway in the field), then their home folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")

# Where desktop automounters (udisks2: /media/<user>, /run/media/<user>) and people (/mnt)
# mount removable media.
_MEDIA_ROOTS = ("/media/", "/run/media/", "/mnt/")

# File systems a configuration might be carried on; a bind mount of the system or a tmpfs under
# /mnt is no place to look.
_CARRIERS = frozenset({"vfat", "exfat", "ntfs", "ntfs3", "fuseblk", "ext2", "ext3", "ext4",
                       "btrfs", "xfs", "f2fs", "iso9660", "udf", "hfsplus", "nfs", "nfs4",
                       "cifs", "smb3"})

# The file names the import looks at by default.
IMPORT_SUFFIXES = (".json", ".xml")


@dataclass(frozen=True)
class Place:
    """A folder to offer: ``label`` as a person reads it, ``removable`` for media."""

    label: str
    path: Path
    removable: bool


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash as octal escapes.
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit() and len(field[i + 1:i + 4]) == 3:
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def media_mounts(mountinfo: str) -> list[Place]:
    """The mounted media in ``mountinfo`` (the text of /proc/self/mountinfo), by mount point."""
    places: dict[str, Place] = {}
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if not sep or len(fields) < 5 or not rest:
            continue
        point, fstype = _unescape(fields[4]), rest[0]
        if fstype not in _CARRIERS or not point.startswith(_MEDIA_ROOTS):
            continue
        name = Path(point).name
        places[point] = Place(f"USB / media: {name}", Path(point), True)
    return [places[p] for p in sorted(places)]


def likely_places(home: Path | None = None, mountinfo: Path = MOUNTINFO) -> list[Place]:
    """Mounted media first, then the home folder; only folders that exist now."""
    try:
        text = mountinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    places = [p for p in media_mounts(text) if p.path.is_dir()]
    home = home if home is not None else Path(os.path.expanduser("~"))
    if home.is_dir():
        places.append(Place("Home folder", home, False))
    return places


@dataclass(frozen=True)
class Entry:
    """One row of a folder's listing: a sub-folder to open or a file to choose."""

    name: str
    path: Path
    is_folder: bool
    size: int


def list_folder(folder: Path, suffixes: tuple[str, ...] = IMPORT_SUFFIXES,
                most: int = 500) -> list[Entry]:
    """Sub-folders (not hidden) and the files with one of ``suffixes``, folders first, each
    sorted by name; at most ``most`` rows (a stick full of photos must not flood the list).
    Raises OSError when the folder cannot be read."""
    folders: list[Entry] = []
    files: list[Entry] = []
    with os.scandir(folder) as it:
        for item in it:
            if item.name.startswith("."):
                continue
            try:
                if item.is_dir():
                    folders.append(Entry(item.name, Path(item.path), True, 0))
                elif item.is_file() and item.name.lower().endswith(suffixes):
                    files.append(Entry(item.name, Path(item.path), False,
                                       item.stat().st_size))
            except OSError:
                continue  # vanished or unreadable: not offered
    folders.sort(key=lambda e: e.name.lower())
    files.sort(key=lambda e: e.name.lower())
    return (folders + files)[:most]

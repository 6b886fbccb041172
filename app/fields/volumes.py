"""The Volume Mount field: comma-separated SOURCE:TARGET[:MODE] mounts."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from app.errors import SyntaxProblem
from app.fields.lists import split_list

_VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+", re.ASCII)
_EXPECTED = (
    "expected SOURCE:TARGET or SOURCE:TARGET:MODE, such as /path/on/host:/path/in/container "
    "or data:/var/lib/app:ro"
)
ACCESS_MODES = frozenset({"ro", "rw"})
LABEL_MODES = frozenset({"z", "Z"})
PROPAGATION_MODES = frozenset({"shared", "slave", "private", "rshared", "rslave", "rprivate"})
COPY_MODES = frozenset({"nocopy"})
MODES = ACCESS_MODES | LABEL_MODES | PROPAGATION_MODES | COPY_MODES
_MODE_HELP = (
    "expected options from ro, rw, z, Z, shared, slave, private, rshared, rslave, rprivate and "
    "nocopy, joined by \\, (such as ro\\,z), with at most one of ro and rw, one of z and Z and "
    "one propagation mode"
)


@dataclass(frozen=True)
class VolumeMount:
    """One mount: a host path or named volume, where it appears, and its options ('' = none)."""

    source: str
    target: str
    mode: str = ""

    @property
    def is_bind(self) -> bool:
        """True for a host path, False for a named volume."""
        return self.source.startswith("/")

    @property
    def read_only(self) -> bool:
        """Whether the mount is read-only."""
        return "ro" in self.mode.split(",")


def _check_path(path: str, item: str, what: str) -> None:
    if "\0" in path:
        raise SyntaxProblem(
            f"the {what} in {item!r} contains a NUL character; expected a path", item=item
        )


def _parse_mode(mode: str, item: str, is_bind: bool) -> str:
    options = [option.strip() for option in mode.split(",")]
    seen: list[str] = []
    for option in options:
        if option not in MODES:
            what = option if option else "an empty option"
            raise SyntaxProblem(f"{what} in {item} is not a mount option; {_MODE_HELP}", item=item)
        if option in seen:
            raise SyntaxProblem(f"{option} is written twice in {item}; {_MODE_HELP}", item=item)
        for group, name in (
            (ACCESS_MODES, "ro and rw"),
            (LABEL_MODES, "z and Z"),
            (PROPAGATION_MODES, "propagation modes"),
        ):
            if option in group and any(other in group for other in seen):
                raise SyntaxProblem(
                    f"{item} combines more than one of {name}; {_MODE_HELP}", item=item
                )
        seen.append(option)
    if is_bind and "nocopy" in seen:
        raise SyntaxProblem(
            f"{item} uses nocopy on a host path; expected nocopy only with a named volume, "
            "whose initial content it controls",
            item=item,
        )
    if not is_bind and any(option in PROPAGATION_MODES for option in seen):
        raise SyntaxProblem(
            f"{item} sets a propagation mode on a named volume; expected propagation modes "
            "only with a host path that starts with /",
            item=item,
        )
    return ",".join(seen)


def parse_volume_item(item: str) -> VolumeMount:
    """Parse one ``SOURCE:TARGET[:MODE]`` item."""
    parts = [part.strip() for part in item.split(":")]
    if len(parts) < 2:
        raise SyntaxProblem(f"{item} has no : between source and target; {_EXPECTED}", item=item)
    if len(parts) > 3:
        raise SyntaxProblem(
            f"{item} has more than two colons; {_EXPECTED} (paths cannot contain a colon)",
            item=item,
        )
    source, target = parts[0], parts[1]
    if not source.startswith("/") and not _VOLUME_NAME.fullmatch(source):
        what = source if source else "the empty source"
        raise SyntaxProblem(
            f"{what} in {item} is neither an absolute host path nor a volume name; expected a "
            "path starting with / or a volume name of at least 2 letters, digits, _, . or - "
            "that starts with a letter or digit",
            item=item,
        )
    _check_path(source, item, "source")
    if not target.startswith("/"):
        what = target if target else "the empty target"
        raise SyntaxProblem(
            f"{what} in {item} is not an absolute path; expected the path inside the "
            "container, starting with /",
            item=item,
        )
    if not target.strip("/"):
        raise SyntaxProblem(
            f"{item} mounts over the container's root /; expected a directory or file below /",
            item=item,
        )
    _check_path(target, item, "target")
    mode = ""
    if len(parts) == 3:
        if not parts[2]:
            raise SyntaxProblem(f"{item} has nothing after the last colon; {_MODE_HELP}", item=item)
        mode = _parse_mode(parts[2], item, source.startswith("/"))
    return VolumeMount(source, target, mode)


def parse_volumes(text: str) -> list[VolumeMount]:
    """Parse the Volume Mount field, keeping every mode (Kura dropped ``:ro``)."""
    mounts: list[VolumeMount] = []
    targets: dict[str, str] = {}
    for item in split_list(text):
        mount = parse_volume_item(item)
        key = posixpath.normpath(mount.target)
        if key in targets:
            raise SyntaxProblem(
                f"{item} mounts on {mount.target}, which {targets[key]} already uses; expected "
                "each container path to be mounted once",
                item=item,
            )
        targets[key] = item
        mounts.append(mount)
    return mounts

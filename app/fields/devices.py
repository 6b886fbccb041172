"""The Peripheral Device field: comma-separated HOST[:CONTAINER][:PERMISSIONS] devices."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import SyntaxProblem
from app.fields.lists import split_list

_EXPECTED = (
    "expected HOST, HOST:CONTAINER, HOST:PERMISSIONS or HOST:CONTAINER:PERMISSIONS, such as "
    "/dev/ttyUSB0 or /dev/ttyUSB0:/dev/ttyS0:rw, with absolute paths and PERMISSIONS made of "
    "the letters r, w and m, each at most once"
)


@dataclass(frozen=True)
class DeviceMapping:
    """One host device made available inside the container."""

    host_path: str
    container_path: str
    permissions: str = "rwm"

    def to_docker(self) -> str:
        """The ``host:container:perms`` form the Docker API expects."""
        return f"{self.host_path}:{self.container_path}:{self.permissions}"


def _looks_like_permissions(text: str) -> bool:
    return bool(text) and all(char in "rwm" for char in text)


def _check_permissions(text: str, item: str) -> str:
    if not _looks_like_permissions(text):
        what = text if text else "the empty text"
        raise SyntaxProblem(f"{what} in {item} is not a set of permissions; {_EXPECTED}", item=item)
    if len(set(text)) != len(text):
        raise SyntaxProblem(f"{text} in {item} repeats a permission letter; {_EXPECTED}", item=item)
    return text


def _check_path(path: str, item: str, what: str) -> str:
    if not path.startswith("/") or "\0" in path:
        shown = path if path else "the empty text"
        raise SyntaxProblem(
            f"{shown} in {item} is not an absolute {what} path; {_EXPECTED}", item=item
        )
    return path


def parse_device_item(item: str) -> DeviceMapping:
    """Parse one device item the way Docker does."""
    parts = [part.strip() for part in item.split(":")]
    if len(parts) > 3:
        raise SyntaxProblem(f"{item} has more than three parts; {_EXPECTED}", item=item)
    host = _check_path(parts[0], item, "host")
    container = host
    permissions = "rwm"
    if len(parts) == 2:
        if parts[1].startswith("/"):
            container = _check_path(parts[1], item, "container")
        else:
            permissions = _check_permissions(parts[1], item)
    elif len(parts) == 3:
        container = _check_path(parts[1], item, "container")
        permissions = _check_permissions(parts[2], item)
    return DeviceMapping(host, container, permissions)


def parse_devices(text: str) -> list[DeviceMapping]:
    """Parse the Peripheral Device field."""
    devices: list[DeviceMapping] = []
    used: dict[str, str] = {}
    for item in split_list(text):
        device = parse_device_item(item)
        if device.container_path in used:
            raise SyntaxProblem(
                f"{item} puts a device at {device.container_path}, which "
                f"{used[device.container_path]} already uses; expected each container path once",
                item=item,
            )
        used[device.container_path] = item
        devices.append(device)
    return devices

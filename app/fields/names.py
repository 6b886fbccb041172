"""Names and addresses: container, image, tag, network, runtime, registry, engine host, files."""

from __future__ import annotations

import ipaddress
import re

from app.errors import SyntaxProblem
from app.redact import mask_address, split_userinfo

_CONTAINER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+", re.ASCII)
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*", re.ASCII)
_DOMAIN_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_REFERENCE_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*|\[[a-fA-F0-9:.%]+\])(?::[0-9]+)?", re.ASCII
)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)
# Any algorithm: what follows the @ of name@digest, as the reference grammar has it.
_ANY_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}",
                         re.ASCII)
_NETWORK_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", re.ASCII)
_RUNTIME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", re.ASCII)
_HOST_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9_-]*[a-zA-Z0-9])?"
_HOST = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*", re.ASCII)
_REGISTRY_PATH = re.compile(r"(?:/[A-Za-z0-9._~-]*)*", re.ASCII)
_SSH_USER = re.compile(r"[A-Za-z0-9._-]+", re.ASCII)
MAX_IMAGE_NAME = 255
DOCKER_HOST_FORMS = "unix:///PATH, tcp://HOST[:PORT], ssh://[USER@]HOST[:PORT] or npipe://PATH"


def parse_container_name(text: str) -> str:
    """Check a container name against Docker's rule ``[a-zA-Z0-9][a-zA-Z0-9_.-]+``."""
    name = text.strip()
    if _CONTAINER_NAME.fullmatch(name):
        return name
    shown = name if name else "the empty text"
    raise SyntaxProblem(
        f"{shown} is not a valid container name; expected at least 2 characters from letters "
        "A-Z and a-z, digits, _, . and -, starting with a letter or a digit"
    )


def _part_of(part: str, whole: str) -> str:
    return part if part == whole else f"{part} in {whole}"


def _credentials_problem(address: str, expected: str) -> SyntaxProblem | None:
    """A refusal of an address that carries a user name (and password), which it never shows."""
    _, user, has_password, _ = split_userinfo(address)
    if user is None:
        return None
    what = "a user name and password" if has_password else "a user name"
    return SyntaxProblem(
        f"{mask_address(address)} carries {what}; {expected}, with the user name and password "
        "in Authentication Username and Password"
    )


def _looks_like_credentials(name: str) -> bool:
    """Whether the @ in an image name ends a user part rather than starting a digest.

    A digest follows a name (whose only colon is a registry port, before a /) and has no /;
    a user part comes first, and the image's path follows it.
    """
    if "@" not in name:
        return False
    if "://" in name:
        return True
    bare, _, after = name.rpartition("@")
    if _ANY_DIGEST.fullmatch(after):
        return "@" in bare
    password = bare.partition(":")[2]
    return "/" in after or (bool(password) and "/" not in password)


def _registry_port_problem(domain: str, name: str) -> SyntaxProblem | None:
    if domain.endswith("]") or ":" not in domain:
        return None
    port = domain.rpartition(":")[2]
    if 1 <= int(port) <= 65535:
        return None
    return SyntaxProblem(
        f"{port} in {name} is not a port number; expected the registry's port, from 1 to "
        "65535, after the host, as in 127.0.0.1:5000/team/app"
    )


def parse_image_name(text: str) -> str:
    """Check an image name without tag: ``[registry[:port]/]path/components``."""
    name = text.strip()
    expected = (
        "expected an image name such as nginx, eurotech/esf or registry.example.com:5000/team/app"
    )
    if not name:
        raise SyntaxProblem(f"the image name is empty; {expected}")
    if _looks_like_credentials(name):
        # user:password@registry/..., typed as in a URL: say so without showing the password.
        problem = _credentials_problem(
            name, "expected only the image name, such as 127.0.0.1:5000/team/app"
        )
        if problem is not None:
            raise problem
    if "://" in name:
        scheme = name.partition("://")[0]
        raise SyntaxProblem(
            f"{name} starts with {scheme}://; {expected}, without a scheme (the engine pulls "
            "over HTTPS, or plain HTTP from registries it is told are insecure)"
        )
    last = name.rsplit("/", 1)[-1]
    if "@" in name:
        bare, _, digest = name.partition("@")
        raise SyntaxProblem(
            f"{name} includes a digest; expected only the image name here ({bare}), with the "
            f"digest ({digest}) in the Image tag field"
        )
    if ":" in last:
        bare, _, tag = name.rpartition(":")
        if not tag:
            raise SyntaxProblem(f"{name} ends with a colon; {expected}, with no colon after it")
        raise SyntaxProblem(
            f"{name} includes the tag {tag}; expected only the image name here ({bare}), with "
            f"{tag} in the Image tag field"
        )
    if len(name) > MAX_IMAGE_NAME:
        raise SyntaxProblem(
            f"the image name is {len(name)} characters long; expected at most {MAX_IMAGE_NAME}"
        )
    components = name.split("/")
    first = components[0]
    if len(components) > 1 and (
        "." in first or ":" in first or first == "localhost" or first.lower() != first
    ):
        if not _REFERENCE_DOMAIN.fullmatch(first):
            raise SyntaxProblem(
                f"{first} in {name} is not a registry address; expected a host name or IP "
                f"address, optionally followed by :PORT, before the first /; {expected}"
            )
        port_problem = _registry_port_problem(first, name)
        if port_problem is not None:
            raise port_problem
        components = components[1:]
    for component in components:
        if _PATH_COMPONENT.fullmatch(component):
            continue
        if component.lower() != component and _PATH_COMPONENT.fullmatch(component.lower()):
            raise SyntaxProblem(
                f"{_part_of(component, name)} has upper-case letters; expected an image name in "
                "lower case (only a registry host may use capitals)"
            )
        shown = component if component else "an empty part"
        raise SyntaxProblem(
            f"{_part_of(shown, name)} is not a valid part of an image name; expected parts of "
            "lower-case letters and digits, separated inside by ., _, __ or dashes, joined by /; "
            f"{expected}"
        )
    return name


def parse_image_tag(text: str) -> str:
    """Check an image tag (``1.25``, ``latest``) or a digest (``sha256:`` and 64 hex digits)."""
    tag = text.strip()
    if _TAG.fullmatch(tag) or _DIGEST.fullmatch(tag):
        return tag
    if tag.lower().startswith("sha256:"):
        raise SyntaxProblem(
            f"{tag} is not a valid digest; expected sha256: followed by exactly 64 lower-case "
            "hexadecimal digits"
        )
    shown = tag if tag else "the empty text"
    raise SyntaxProblem(
        f"{shown} is not a valid image tag; expected a tag of up to 128 letters, digits, _, . "
        "and -, not starting with . or -, such as latest or 1.25, or a digest sha256:..."
    )


def image_reference(name: str, tag: str) -> str:
    """The full reference to pull or run: ``name:tag``, or ``name@sha256:...`` for a digest."""
    if tag.startswith("sha256:"):
        return f"{name}@{tag}"
    return f"{name}:{tag}"


def parse_network_mode(text: str) -> str | None:
    """Check a network mode: bridge, host, none, container:NAME, or a network name."""
    mode = text.strip()
    if not mode:
        return None
    if mode.startswith("container:"):
        if _NETWORK_NAME.fullmatch(mode[len("container:") :]):
            return mode
        raise SyntaxProblem(
            f"{mode} does not name a container; expected container: followed by the name or "
            "id of a container, such as container:mqtt-broker"
        )
    if _NETWORK_NAME.fullmatch(mode):
        return mode
    raise SyntaxProblem(
        f"{mode} is not a network mode; expected bridge, host, none, container:NAME, or the "
        "name of an existing network (letters, digits, _, . and -, starting with a letter or "
        "digit); leave empty for the engine's default"
    )


def parse_runtime(text: str) -> str | None:
    """Check an OCI runtime name such as nvidia or runc; empty means the engine's default."""
    runtime = text.strip()
    if not runtime:
        return None
    if _RUNTIME.fullmatch(runtime):
        return runtime
    raise SyntaxProblem(
        f"{runtime} is not a runtime name; expected the name of a runtime configured on the "
        "engine, such as nvidia or runc (letters, digits, _, . and -); leave empty for the "
        "engine's default"
    )


def _valid_port(port: str) -> bool:
    digits = port.lstrip("0")
    return (
        port.isascii() and port.isdigit() and len(digits) <= 5 and 1 <= int(digits or "0") <= 65535
    )


def _valid_host(host: str) -> bool:
    """A host name, an IPv4 address, or an IPv6 address in brackets."""
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    if host.replace(".", "").isdigit():
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    return len(host) <= 253 and _HOST.fullmatch(host) is not None


def _split_host_port(text: str) -> tuple[str, str | None]:
    """Split ``host[:port]`` where host may be a bracketed IPv6 address."""
    if text.startswith("["):
        close = text.find("]")
        if close >= 0 and text[close + 1 :].startswith(":"):
            return text[: close + 1], text[close + 2 :]
        return text, None
    host, colon, port = text.partition(":")
    return host, port if colon else None


def _valid_host_port(text: str, port_required: bool = False) -> bool:
    host, port = _split_host_port(text)
    if port is None:
        return not port_required and _valid_host(host)
    return _valid_host(host) and _valid_port(port)


def parse_registry_url(text: str) -> str | None:
    """Check a registry address: ``[http(s)://]host[:port][/path]``; empty means Docker Hub."""
    url = text.strip()
    if not url:
        return None
    problem = _credentials_problem(
        url, "expected the registry's address alone, such as 127.0.0.1:5000"
    )
    if problem is not None:
        raise problem
    rest = url
    scheme, sep, after = url.partition("://")
    if sep:
        if scheme.lower() not in ("http", "https"):
            raise SyntaxProblem(
                f"{url} uses the scheme {scheme}://; expected http://, https:// or no scheme, "
                "as in 127.0.0.1:5000 or 123456.dkr.ecr.eu-west-1.amazonaws.com/team/"
            )
        rest = after
    slash = rest.find("/")
    address, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    if _valid_host_port(address) and _REGISTRY_PATH.fullmatch(path):
        return url
    raise SyntaxProblem(
        f"{url} is not a registry address; expected HOST or HOST:PORT, optionally after "
        "http:// or https:// and followed by a path, without spaces, such as 127.0.0.1:5000 "
        "or 123456.dkr.ecr.eu-west-1.amazonaws.com/team/; leave empty for Docker Hub"
    )


def parse_docker_host(text: str) -> str:
    """Check the engine address: unix://, tcp://, ssh:// or npipe://."""
    url = text.strip()
    if split_userinfo(url)[2]:
        raise SyntaxProblem(
            f"{mask_address(url)} carries a password; expected {DOCKER_HOST_FORMS} with no "
            "password in it: a remote engine is reached with TLS certificates (tcp://) or ssh "
            "keys (ssh://)"
        )
    scheme, sep, rest = url.partition("://")
    scheme = scheme if sep else ""
    valid = False
    if scheme == "unix":
        valid = rest.startswith("/") and "\0" not in rest and not any(c.isspace() for c in rest)
    elif scheme == "tcp":
        valid = _valid_host_port(rest)
    elif scheme == "ssh":
        user, at, address = rest.rpartition("@")
        valid = (not at or _SSH_USER.fullmatch(user) is not None) and _valid_host_port(address)
    elif scheme == "npipe":
        valid = bool(rest) and "\0" not in rest and not any(c.isspace() for c in rest)
    if valid:
        return url
    shown = url if url else "the empty text"
    raise SyntaxProblem(
        f"{shown} is not a Docker engine address; expected {DOCKER_HOST_FORMS}, such as "
        "unix:///var/run/docker.sock, tcp://192.168.1.10:2376 or ssh://pi@gateway"
    )


def parse_file_path(text: str) -> str | None:
    """Check a file path: absolute or starting with ``~``; empty means none. Not checked on disk."""
    path = text.strip()
    if not path:
        return None
    if (path.startswith("/") or path.startswith("~")) and "\0" not in path:
        return path
    raise SyntaxProblem(
        f"{path} is not an absolute path; expected a path starting with / or ~, such as "
        "/etc/docker/certs/ca.pem; leave empty for none"
    )

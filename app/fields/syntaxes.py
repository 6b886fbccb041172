"""The parser of each ``moorings:syntax`` name used in the metatype files."""

from __future__ import annotations

from collections.abc import Callable

from app.errors import SyntaxProblem
from app.fields.devices import parse_devices
from app.fields.digests import parse_allowlist, parse_digest
from app.fields.env import parse_env
from app.fields.limits import parse_cpus, parse_gpus, parse_memory
from app.fields.lists import split_list
from app.fields.logger import parse_logger_options, parse_logger_type
from app.fields.mqtt import parse_broker_url_or_empty, parse_client_id, parse_topic_segment
from app.fields.names import (
    parse_docker_host,
    parse_file_path,
    parse_image_name,
    parse_image_tag,
    parse_network_mode,
    parse_registry_url,
    parse_runtime,
)
from app.fields.ports import parse_external, parse_internal
from app.fields.volumes import parse_volumes

SYNTAXES: dict[str, Callable[[str], object]] = {
    "image-name": parse_image_name,
    "image-tag": parse_image_tag,
    "registry-url": parse_registry_url,
    "ports-internal": parse_internal,
    "ports-external": parse_external,
    "env-list": parse_env,
    "arg-list": split_list,
    "memory": parse_memory,
    "cpus": parse_cpus,
    "gpus": parse_gpus,
    "runtime": parse_runtime,
    "volume-list": parse_volumes,
    "device-list": parse_devices,
    "network-mode": parse_network_mode,
    "logger-type": parse_logger_type,
    "logger-options": parse_logger_options,
    "docker-host": parse_docker_host,
    "file-path": parse_file_path,
    "image-digest": parse_digest,
    "digest-list": parse_allowlist,
    "mqtt-url": parse_broker_url_or_empty,
    "mqtt-client-id": parse_client_id,
    "topic-segment": parse_topic_segment,
}


# Syntaxes whose value is a comma-separated list: a problem can name the list item at fault.
LIST_SYNTAXES = frozenset(
    {"ports-internal", "ports-external", "env-list", "arg-list", "volume-list", "device-list",
     "logger-options"}
)


def parse(syntax: str, text: str) -> object:
    """Parse ``text`` with the parser named ``syntax``; an unknown name is a SyntaxProblem."""
    parser = SYNTAXES.get(syntax)
    if parser is None:
        raise SyntaxProblem(
            f"{syntax} is not a known field syntax; expected one of {', '.join(sorted(SYNTAXES))}"
        )
    return parser(text)

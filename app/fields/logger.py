"""The Logger Type and Logger Parameters fields: Docker log drivers and their options."""

from __future__ import annotations

from app.errors import SyntaxProblem
from app.fields.lists import split_list
from app.fields.logger_rules import COMMON_OPTIONS, VALUE_RULES, check_common_options

LOGGER_DRIVERS: dict[str, str] = {
    "NONE": "none",
    "DEFAULT": "json-file",
    "LOCAL": "local",
    "ETWLOGS": "etwlogs",
    "JSON_FILE": "json-file",
    "SYSLOG": "syslog",
    "JOURNALD": "journald",
    "GELF": "gelf",
    "FLUENTD": "fluentd",
    "AWSLOGS": "awslogs",
    "DB": "db",
    "SPLUNK": "splunk",
    "GCPLOGS": "gcplogs",
    "LOKI": "loki",
}

READABLE_DRIVERS = frozenset({"json-file", "local", "journald"})

KNOWN_OPTIONS: dict[str, frozenset[str]] = {
    "json-file": frozenset(
        {"max-size", "max-file", "compress", "labels", "labels-regex", "env", "env-regex", "tag"}
    )
    | COMMON_OPTIONS,
    "local": frozenset({"max-size", "max-file", "compress"}) | COMMON_OPTIONS,
    "none": frozenset(),
}

_OPTIONS_EXPECTED = "expected key=value, such as max-size=10m"


def parse_logger_type(text: str) -> str:
    """Parse the Logger Type field (one of Kura's option values, any case) into a driver name.

    Docker's own spelling with a dash, such as json-file, is accepted too.
    """
    value = text.strip()
    key = value.upper().replace("-", "_") if value.isascii() else value
    if key in LOGGER_DRIVERS:
        return LOGGER_DRIVERS[key]
    shown = value if value else "the empty text"
    raise SyntaxProblem(
        f"{shown} is not a logger type; expected one of {', '.join(LOGGER_DRIVERS)} "
        "(in any case; DEFAULT is json-file)"
    )


def parse_logger_options(text: str) -> dict[str, str]:
    """Parse the Logger Parameters field; each value is everything after the first ``=``."""
    options: dict[str, str] = {}
    for item in split_list(text):
        key, equals, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not equals:
            raise SyntaxProblem(f"{item} has no = sign; {_OPTIONS_EXPECTED}", item=item)
        if not key:
            raise SyntaxProblem(
                f"{item} has no key before the = sign; {_OPTIONS_EXPECTED}", item=item
            )
        if any(char.isspace() for char in key):
            raise SyntaxProblem(
                f"the key {key!r} in {item} contains whitespace; {_OPTIONS_EXPECTED}", item=item
            )
        if key in options:
            raise SyntaxProblem(
                f"{key} is set more than once (again in {item}); expected each option once",
                item=item,
            )
        options[key] = value
    return options


def check_logger_options(driver: str, options: dict[str, str]) -> None:
    """Refuse options the driver does not take, and values the engine would refuse.

    Every driver's option names are not known here (a plugin's are its own), but the options
    the engine takes for all of them are, and so are json-file's and local's values.
    """
    known = KNOWN_OPTIONS.get(driver)
    if known is None:
        check_common_options(options)
        return
    for key in options:
        if key in known:
            continue
        if not known:
            raise SyntaxProblem(
                f"the {driver} logger takes no options, but {key} is set; expected Logger "
                "Parameters to be empty with this logger type",
                item=f"{key}={options[key]}",
            )
        raise SyntaxProblem(
            f"{key} is not an option of the {driver} logger; expected one of "
            f"{', '.join(sorted(known))}",
            item=f"{key}={options[key]}",
        )
    if known:
        check_common_options(options)
    rule = VALUE_RULES.get(driver)
    if rule is not None:
        rule(options)

"""Port lists of the Internal Ports and External Ports fields, and how they pair up."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from app.errors import SyntaxProblem
from app.fields.lists import split_list

INTERNAL_PORTS = "Internal Ports"
EXTERNAL_PORTS = "External Ports"
INTERNAL_PORTS_ID = "container.ports.internal"
EXTERNAL_PORTS_ID = "container.ports.external"

PROTOCOLS = ("tcp", "udp", "sctp")

_PROTOCOL_HELP = "tcp, udp or sctp"
_EXPECT_INTERNAL = (
    "expected a number from 1 to 65535, or START-END, optionally followed by :tcp, :udp or :sctp"
)
_EXPECT_EXTERNAL = (
    "expected a number from 1 to 65535, or START-END, optionally preceded by an IPv4 address "
    "and : (127.0.0.1:8080) or an IPv6 address in brackets and : ([::1]:8080), and optionally "
    "followed by :tcp, :udp or :sctp"
)
_RANGE = re.compile(r"\s*(?P<start>[0-9]+)\s*(?:-\s*(?P<end>[0-9]+)\s*)?", re.ASCII)


@dataclass(frozen=True)
class PortSpec:
    """One written item of a port list: a port or a range, as parsed on one side.

    ``protocol`` is always set on the internal side (tcp when not written); on the external
    side it is None unless a ``:proto`` suffix was written. ``host_ip`` is only ever set on
    the external side. ``text`` is the item as written, for messages.
    """

    start: int
    end: int
    protocol: str | None
    host_ip: str | None = None
    text: str = ""

    @property
    def count(self) -> int:
        """How many ports the item covers."""
        return self.end - self.start + 1


@dataclass(frozen=True)
class PortMapping:
    """One container port published on one host port."""

    container_port: int
    host_port: int
    protocol: str
    host_ip: str | None


class PortPairingProblem(SyntaxProblem):
    """A SyntaxProblem from ``pair_ports``, telling which of the two fields it concerns.

    ``fields`` holds the human names ("Internal Ports", "External Ports") and ``field_ids``
    the ids of the fields at fault; ``internal_item`` and ``external_item`` are the items of
    each side involved, so the problem can be reported on each field.
    """

    def __init__(
        self,
        message: str,
        *,
        fields: tuple[str, ...] = (INTERNAL_PORTS, EXTERNAL_PORTS),
        internal_item: str | None = None,
        external_item: str | None = None,
    ) -> None:
        item = None
        if fields == (INTERNAL_PORTS,):
            item = internal_item
        elif fields == (EXTERNAL_PORTS,):
            item = external_item
        super().__init__(message, item=item)
        self.fields = fields
        ids = {INTERNAL_PORTS: INTERNAL_PORTS_ID, EXTERNAL_PORTS: EXTERNAL_PORTS_ID}
        self.field_ids = tuple(ids[name] for name in fields)
        self.internal_item = internal_item
        self.external_item = external_item


def _port(digits: str, item: str, expected: str) -> int:
    significant = digits.lstrip("0")
    if len(significant) > 5 or not 1 <= int(significant or "0") <= 65535:
        raise SyntaxProblem(f"{digits} in {item} is not a port number; {expected}", item=item)
    return int(significant)


def _range(text: str, item: str, expected: str, what: str) -> tuple[int, int]:
    match = _RANGE.fullmatch(text)
    if match is None and "/" in text:
        raise SyntaxProblem(
            f"{item} is not {what}: write the protocol after a colon, as in 81:udp; {expected}",
            item=item,
        )
    if match is None:
        raise SyntaxProblem(f"{item} is not {what}; {expected}", item=item)
    start = _port(match["start"], item, expected)
    end = start if match["end"] is None else _port(match["end"], item, expected)
    if end < start:
        raise SyntaxProblem(
            f"{item} is a range that ends before it starts; expected START-END with START "
            f"at most END, such as {end}-{start}",
            item=item,
        )
    return start, end


def _protocol(text: str, item: str) -> str:
    name = text.strip()
    if not name:
        raise SyntaxProblem(
            f"{item} has nothing after the colon; expected a protocol: {_PROTOCOL_HELP}",
            item=item,
        )
    if not name.isascii() or name.lower() not in PROTOCOLS:
        raise SyntaxProblem(
            f"{name} in {item} is not a protocol; expected {_PROTOCOL_HELP} (in any case)",
            item=item,
        )
    return name.lower()


def parse_internal_item(item: str) -> PortSpec:
    """Parse one item of Internal Ports: ``PORT[:proto]`` or ``START-END[:proto]``."""
    ports, colon, protocol = item.partition(":")
    if ":" in protocol:
        raise SyntaxProblem(f"{item} has more than one colon; {_EXPECT_INTERNAL}", item=item)
    start, end = _range(ports, item, _EXPECT_INTERNAL, "a port or a port range")
    return PortSpec(start, end, _protocol(protocol, item) if colon else "tcp", None, item)


def parse_internal(text: str) -> list[PortSpec]:
    """Parse the Internal Ports field: comma-separated ``PORT[:proto]`` or ``START-END[:proto]``."""
    return [parse_internal_item(item) for item in split_list(text)]


def _ipv6(address: str, item: str) -> str:
    try:
        parsed = ipaddress.IPv6Address(address.strip())
    except ValueError:
        raise SyntaxProblem(
            f"[{address}] in {item} is not an IPv6 address; {_EXPECT_EXTERNAL}", item=item
        ) from None
    return str(parsed)


def _ipv4(address: str, item: str) -> str:
    try:
        parsed = ipaddress.IPv4Address(address.strip())
    except ValueError:
        raise SyntaxProblem(
            f"{address.strip() or 'the empty text'} before the port in {item} is not an IPv4 "
            f"address; {_EXPECT_EXTERNAL}",
            item=item,
        ) from None
    return str(parsed)


def _starts_with_digit(text: str) -> bool:
    first = text.strip()[:1]
    return first.isascii() and first.isdigit()


def parse_external_item(item: str) -> PortSpec:
    """Parse one item of External Ports: ``[IP:]PORT[:proto]`` or ``[IP:]START-END[:proto]``."""
    host_ip: str | None = None
    rest = item
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            raise SyntaxProblem(f"{item} opens [ without closing it; {_EXPECT_EXTERNAL}", item=item)
        host_ip = _ipv6(rest[1:close], item)
        rest = rest[close + 1 :].lstrip()
        if not rest.startswith(":"):
            raise SyntaxProblem(
                f"{item} has no :PORT after the address; {_EXPECT_EXTERNAL}", item=item
            )
        rest = rest[1:]
        ports, colon, protocol = rest.partition(":")
    else:
        parts = rest.split(":")
        if len(parts) > 3 or (len(parts) == 3 and _starts_with_digit(parts[2])):
            raise SyntaxProblem(
                f"{item} has too many colons; write an IPv6 address in brackets, as in "
                f"[::1]:8080; {_EXPECT_EXTERNAL}",
                item=item,
            )
        if len(parts) == 3:
            host_ip = _ipv4(parts[0], item)
            ports, colon, protocol = parts[1], ":", parts[2]
        elif len(parts) == 2 and _starts_with_digit(parts[1]):
            host_ip = _ipv4(parts[0], item)
            ports, colon, protocol = parts[1], "", ""
        elif len(parts) == 2:
            ports, colon, protocol = parts[0], ":", parts[1]
        else:
            ports, colon, protocol = parts[0], "", ""
    if ":" in protocol:
        raise SyntaxProblem(f"{item} has too many colons; {_EXPECT_EXTERNAL}", item=item)
    start, end = _range(ports, item, _EXPECT_EXTERNAL, "a host port or a port range")
    return PortSpec(start, end, _protocol(protocol, item) if colon else None, host_ip, item)


def parse_external(text: str) -> list[PortSpec]:
    """Parse the External Ports field: comma-separated ``[IP:]PORT[-END][:proto]`` items."""
    return [parse_external_item(item) for item in split_list(text)]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _where(host_ip: str | None) -> str:
    return "all addresses" if host_ip is None else host_ip


def _overlap(first: str | None, second: str | None) -> bool:
    """Whether binding the same port on both addresses would collide."""
    if first is None or second is None or first == second:
        return True
    a = ipaddress.ip_address(first.split("%")[0])
    b = ipaddress.ip_address(second.split("%")[0])
    return a.version == b.version and (a.is_unspecified or b.is_unspecified)


def pair_ports(internal_text: str, external_text: str) -> list[PortMapping]:
    """Pair Internal Ports with External Ports item by item, one mapping per port.

    Raises PortPairingProblem (a SyntaxProblem) when either side does not parse, when the
    two sides have different numbers of items, when paired ranges differ in length, when an
    external protocol contradicts its internal one, or when a host port is bound twice.
    """
    try:
        internal = parse_internal(internal_text)
    except SyntaxProblem as problem:
        raise PortPairingProblem(
            problem.message, fields=(INTERNAL_PORTS,), internal_item=problem.item
        ) from None
    try:
        external = parse_external(external_text)
    except SyntaxProblem as problem:
        raise PortPairingProblem(
            problem.message, fields=(EXTERNAL_PORTS,), external_item=problem.item
        ) from None
    if len(internal) != len(external):
        extra_internal = internal[len(external)].text if len(internal) > len(external) else None
        extra_external = external[len(internal)].text if len(external) > len(internal) else None
        raise PortPairingProblem(
            f"{INTERNAL_PORTS} gives {_entries(len(internal))} but {EXTERNAL_PORTS} gives "
            f"{_entries(len(external))}; expected the same number on both sides, paired in "
            "order (the first internal entry with the first external one, and so on)",
            internal_item=extra_internal,
            external_item=extra_external,
        )
    mappings: list[PortMapping] = []
    for inside, outside in zip(internal, external, strict=True):
        protocol = inside.protocol or "tcp"
        if outside.protocol is not None and outside.protocol != protocol:
            raise PortPairingProblem(
                f"{EXTERNAL_PORTS} entry {outside.text} says {outside.protocol} but the "
                f"{INTERNAL_PORTS} entry it is paired with, {inside.text}, is {protocol}; "
                f"expected the same protocol on both sides (write it once, in {INTERNAL_PORTS})",
                internal_item=inside.text,
                external_item=outside.text,
            )
        if inside.count != outside.count:
            raise PortPairingProblem(
                f"{INTERNAL_PORTS} entry {inside.text} ({_plural(inside.count, 'port')}) is "
                f"paired with {EXTERNAL_PORTS} entry {outside.text} "
                f"({_plural(outside.count, 'port')}); expected ranges of the same length on "
                "both sides, such as 5000-5010 with 6000-6010",
                internal_item=inside.text,
                external_item=outside.text,
            )
        for offset in range(inside.count):
            mappings.append(
                PortMapping(
                    inside.start + offset, outside.start + offset, protocol, outside.host_ip
                )
            )
    _refuse_duplicates(mappings, internal, external)
    return mappings


def _entries(count: int) -> str:
    return "1 entry" if count == 1 else f"{count} entries"


def _refuse_duplicates(
    mappings: list[PortMapping], internal: list[PortSpec], external: list[PortSpec]
) -> None:
    bound: dict[tuple[int, str], list[tuple[str | None, int]]] = {}
    index = 0
    for number, (inside, outside) in enumerate(zip(internal, external, strict=True)):
        for _ in range(inside.count):
            mapping = mappings[index]
            index += 1
            key = (mapping.host_port, mapping.protocol)
            for other_ip, other_number in bound.get(key, []):
                if not _overlap(other_ip, mapping.host_ip):
                    continue
                first_in, first_out = internal[other_number], external[other_number]
                where = _where(mapping.host_ip)
                if other_ip != mapping.host_ip:
                    where = f"{_where(other_ip)} and on {where}"
                raise PortPairingProblem(
                    f"host port {mapping.host_port}/{mapping.protocol} on {where} is bound "
                    f"twice: by {EXTERNAL_PORTS} entry {first_out.text} (for {INTERNAL_PORTS} "
                    f"entry {first_in.text}) and by {EXTERNAL_PORTS} entry {outside.text} (for "
                    f"{INTERNAL_PORTS} entry {inside.text}); expected each host port to be "
                    "used once per protocol and address",
                    internal_item=inside.text,
                    external_item=outside.text,
                )
            bound.setdefault(key, []).append((mapping.host_ip, number))

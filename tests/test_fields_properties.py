"""Property tests: every field parser returns a value or raises SyntaxProblem, nothing else."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import SyntaxProblem
from app.fields.devices import parse_devices
from app.fields.env import parse_env
from app.fields.limits import parse_cpus, parse_memory
from app.fields.lists import join_list, split_list
from app.fields.ports import PortMapping, pair_ports
from app.fields.syntaxes import SYNTAXES
from app.fields.volumes import parse_volumes

SETTINGS = settings(max_examples=300, deadline=None)

# Characters that matter to the field syntaxes, so that generated text gets past the first
# checks and reaches the deeper code paths, mixed with arbitrary text.
SYNTAX_CHARS = "0123456789-:,.=/\\[]@ ~_abcdefgkmrwzZtpuAlLsTCPUDG"
syntax_text = st.one_of(st.text(), st.text(alphabet=SYNTAX_CHARS, max_size=40))


def outcome(func: Callable[..., object], *args: object) -> object:
    """Call a parser; a SyntaxProblem with a message is fine, any other exception fails."""
    try:
        return func(*args)
    except SyntaxProblem as problem:
        refusal = problem
    except Exception as error:  # noqa: BLE001 - the point is to catch every other exception
        pytest.fail(f"{func.__name__}{args!r} raised {type(error).__name__}: {error}")
    assert isinstance(refusal.message, str)
    assert refusal.message
    assert refusal.item is None or isinstance(refusal.item, str)
    return refusal


@pytest.mark.parametrize("syntax", sorted(SYNTAXES))
@SETTINGS
@given(text=syntax_text)
def test_every_syntax_returns_or_raises_syntax_problem(syntax: str, text: str) -> None:
    outcome(SYNTAXES[syntax], text)


PORT_CHARS = "0123456789-:,[]. tcpudsTCP\\"
port_text = st.one_of(st.text(), st.text(alphabet=PORT_CHARS, max_size=30))


@SETTINGS
@given(internal=port_text, external=port_text)
def test_pair_ports_returns_or_raises_syntax_problem(internal: str, external: str) -> None:
    result = outcome(pair_ports, internal, external)
    if isinstance(result, list):
        keys = set()
        for mapping in result:
            assert isinstance(mapping, PortMapping)
            assert 1 <= mapping.container_port <= 65535
            assert 1 <= mapping.host_port <= 65535
            assert mapping.protocol in ("tcp", "udp", "sctp")
            key = (mapping.host_ip, mapping.host_port, mapping.protocol)
            assert key not in keys
            keys.add(key)


@st.composite
def port_pairs(draw: st.DrawFn) -> tuple[str, str, int]:
    """Well-formed Internal/External Ports texts and how many mappings they make."""
    count = draw(st.integers(min_value=0, max_value=4))
    internal: list[str] = []
    external: list[str] = []
    total = 0
    next_host = 1000
    for _ in range(count):
        length = draw(st.integers(min_value=1, max_value=4))
        start = draw(st.integers(min_value=1, max_value=65535 - length))
        protocol = draw(st.sampled_from(["", ":tcp", ":UDP", ":sctp"]))
        span = f"{start}" if length == 1 else f"{start}-{start + length - 1}"
        host = f"{next_host}" if length == 1 else f"{next_host}-{next_host + length - 1}"
        address = draw(st.sampled_from(["", "127.0.0.1:", "[::1]:"]))
        internal.append(span + protocol)
        external.append(address + host)
        next_host += length
        total += length
    return ", ".join(internal), ", ".join(external), total


@SETTINGS
@given(pair=port_pairs())
def test_well_formed_ports_pair_fully(pair: tuple[str, str, int]) -> None:
    internal, external, total = pair
    assert len(pair_ports(internal, external)) == total


# Items of a list never hold a line break: it separates items, as a comma does.
_item_chars = st.characters(exclude_characters="\n\r")
items = st.lists(st.text(_item_chars, min_size=1, max_size=20).map(str.strip).filter(bool),
                 max_size=5)


@SETTINGS
@given(values=items)
def test_split_join_round_trip(values: list[str]) -> None:
    assert split_list(join_list(values)) == values


@SETTINGS
@given(text=st.text())
def test_join_split_round_trip(text: str) -> None:
    result = outcome(split_list, text)
    if isinstance(result, list):
        assert all(item and item == item.strip() for item in result)
        assert split_list(join_list(result)) == result


env_names = st.text("ABCXYZabcxyz_0123456789", min_size=1, max_size=8)
env_values = st.text(st.characters(exclude_characters="\0\n\r"), max_size=20).map(str.strip)


@SETTINGS
@given(pairs=st.dictionaries(env_names, env_values, max_size=4).map(lambda d: list(d.items())))
def test_env_values_survive_escaping(pairs: list[tuple[str, str]]) -> None:
    text = join_list(f"{name}={value}" for name, value in pairs)
    assert parse_env(text) == pairs


@SETTINGS
@given(value=st.one_of(st.floats(), st.integers(), st.text()))
def test_cpus_accepts_any_number_or_text(value: float | int | str) -> None:
    result = outcome(parse_cpus, value)
    if isinstance(result, float):
        assert result >= 0.01
        assert result == round(result, 3)


@SETTINGS
@given(number=st.integers(min_value=6, max_value=10**6), unit=st.sampled_from("mMgG"))
def test_memory_units_are_case_insensitive(number: int, unit: str) -> None:
    multiplier = 1024**2 if unit in "mM" else 1024**3
    assert parse_memory(f"{number}{unit}") == number * multiplier
    assert parse_memory(f"{number} {unit}b") == number * multiplier


@SETTINGS
@given(text=syntax_text)
def test_lists_never_leak_other_exceptions(text: str) -> None:
    outcome(parse_volumes, text)
    outcome(parse_devices, text)

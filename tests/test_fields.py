"""Examples for every field parser: Kura's accepted syntax, and each Kura data loss fixed."""

from __future__ import annotations

import contextlib
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app.errors import SyntaxProblem
from app.fields.devices import DeviceMapping, parse_devices
from app.fields.env import parse_env
from app.fields.limits import parse_cpus, parse_gpus, parse_memory, parse_memory_size
from app.fields.lists import join_list, split_list
from app.fields.logger import (
    LOGGER_DRIVERS,
    READABLE_DRIVERS,
    check_logger_options,
    parse_logger_options,
    parse_logger_type,
)
from app.fields.names import (
    image_reference,
    parse_container_name,
    parse_docker_host,
    parse_file_path,
    parse_image_name,
    parse_image_tag,
    parse_network_mode,
    parse_registry_url,
    parse_runtime,
)
from app.fields.ports import (
    EXTERNAL_PORTS,
    INTERNAL_PORTS,
    PortMapping,
    PortPairingProblem,
    PortSpec,
    pair_ports,
    parse_external,
    parse_internal,
)
from app.fields.syntaxes import SYNTAXES, parse
from app.fields.volumes import VolumeMount, parse_volumes

METATYPE = Path(__file__).resolve().parent.parent / "resources" / "metatype"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def refused(func: object, *args: object) -> SyntaxProblem:
    """Call ``func`` and return the SyntaxProblem it must raise."""
    assert callable(func)
    with pytest.raises(SyntaxProblem) as info:
        func(*args)
    problem = info.value
    assert "expected" in problem.message, problem.message
    return problem


# --- lists ------------------------------------------------------------------------------


def test_split_list_kura_syntax() -> None:
    assert split_list("./test.sh,-v,-d,--human-readable") == [
        "./test.sh",
        "-v",
        "-d",
        "--human-readable",
    ]
    assert split_list("22,") == ["22"]
    assert split_list(" a , ,b ,") == ["a", "b"]
    assert split_list("") == []
    assert split_list("  ") == []


def test_split_list_escapes() -> None:
    assert split_list(r"a\,b, c\\d") == ["a,b", "c\\d"]
    assert split_list(r"\,") == [","]
    assert split_list(r"x\\,y") == ["x\\", "y"]


@pytest.mark.parametrize("text", [r"a\q", r"ok, a\n", "a\\", "a,b\\\\\\"])
def test_split_list_bad_escapes(text: str) -> None:
    problem = refused(split_list, text)
    assert problem.item is not None
    assert "\\" in problem.message


def test_bad_escape_names_the_item() -> None:
    problem = refused(split_list, r"good, ba\d")
    assert problem.item == r"ba\d"
    assert r"\d" in problem.message


def test_join_list_round_trip() -> None:
    items = ["./test.sh", "-v", "a,b", "c\\d", "\\,", "x y"]
    assert split_list(join_list(items)) == items
    assert join_list([]) == ""


@pytest.mark.parametrize("item", ["", " lead", "trail ", "\t"])
def test_join_list_refuses_unrepresentable_items(item: str) -> None:
    refused(join_list, ["ok", item])


# --- ports ------------------------------------------------------------------------------


def test_internal_ports_kura_syntax() -> None:
    assert parse_internal("80:tcp") == [PortSpec(80, 80, "tcp", None, "80:tcp")]
    assert [p.start for p in parse_internal("22,")] == [22]
    assert [(p.start, p.protocol) for p in parse_internal("80, 443:TCP, 53:udp, 9:SCTP")] == [
        (80, "tcp"),
        (443, "tcp"),
        (53, "udp"),
        (9, "sctp"),
    ]
    assert parse_internal("") == []


def test_range_is_a_range_not_port_8090() -> None:
    [spec] = parse_internal("80-90")
    assert (spec.start, spec.end, spec.count) == (80, 90, 11)
    mappings = pair_ports("80-90", "8080-8090")
    assert len(mappings) == 11
    assert mappings[0] == PortMapping(80, 8080, "tcp", None)
    assert mappings[-1] == PortMapping(90, 8090, "tcp", None)
    assert all(m.container_port != 8090 for m in mappings)


@pytest.mark.parametrize("text", ["80:tpc", "80:http", "80:", "80:tcp:udp", "53:udp6"])
def test_unknown_protocol_refused_not_tcp(text: str) -> None:
    problem = refused(parse_internal, text)
    assert problem.item == text
    assert "udp" in problem.message


@pytest.mark.parametrize("text", ["0", "65536", "abc", "80,,x", "90-80", "80-90x", "1-2-3", "-5"])
def test_bad_internal_ports(text: str) -> None:
    refused(parse_internal, text)


def test_internal_port_error_message() -> None:
    problem = refused(parse_internal, "80-90x")
    assert problem.message == (
        "80-90x is not a port or a port range; expected a number from 1 to 65535, or "
        "START-END, optionally followed by :tcp, :udp or :sctp"
    )


def test_external_ports() -> None:
    specs = parse_external("8080, 127.0.0.1:8081, [::1]:8082:udp, 9000-9010, 0.0.0.0:53:UDP")
    assert [(s.host_ip, s.start, s.end, s.protocol) for s in specs] == [
        (None, 8080, 8080, None),
        ("127.0.0.1", 8081, 8081, None),
        ("::1", 8082, 8082, "udp"),
        (None, 9000, 9010, None),
        ("0.0.0.0", 53, 53, "udp"),
    ]


@pytest.mark.parametrize(
    "text",
    ["::1:8080", "[::1]8080", "[::1", "[1.2.3.4]:80", "999.1.1.1:80", "host:80", "80:90", "x"],
)
def test_bad_external_ports(text: str) -> None:
    refused(parse_external, text)


def test_pair_ports_kura_default() -> None:
    assert pair_ports("80:tcp", "8080") == [PortMapping(80, 8080, "tcp", None)]
    assert pair_ports("", "") == []
    assert pair_ports("22,", "2222,") == [PortMapping(22, 2222, "tcp", None)]


def test_pair_ports_with_address_and_protocol() -> None:
    assert pair_ports("5000-5001:udp", "[::1]:6000-6001:udp") == [
        PortMapping(5000, 6000, "udp", "::1"),
        PortMapping(5001, 6001, "udp", "::1"),
    ]
    # Same host port with different protocols is fine.
    assert len(pair_ports("53:udp, 53", "53, 53")) == 2


def test_unequal_counts_refused_not_dropped() -> None:
    with pytest.raises(PortPairingProblem) as info:
        pair_ports("80, 443, 22", "8080")
    problem = info.value
    assert isinstance(problem, SyntaxProblem)
    assert "Internal Ports gives 3 entries" in problem.message
    assert "External Ports gives 1 entry" in problem.message
    assert problem.fields == (INTERNAL_PORTS, EXTERNAL_PORTS)
    assert problem.internal_item == "443"
    with pytest.raises(PortPairingProblem, match="Internal Ports gives 1 entry"):
        pair_ports("80", "8080, 8081")


def test_ranges_of_different_lengths_refused() -> None:
    with pytest.raises(SyntaxProblem, match=r"Internal Ports.*External Ports") as info:
        pair_ports("80-90", "8080")
    assert "11 ports" in info.value.message


def test_external_protocol_must_match() -> None:
    problem = refused(pair_ports, "80:udp", "8080:tcp")
    assert INTERNAL_PORTS in problem.message
    assert EXTERNAL_PORTS in problem.message
    assert pair_ports("80:udp", "8080:UDP") == [PortMapping(80, 8080, "udp", None)]


@pytest.mark.parametrize(
    ("internal", "external"),
    [
        ("80, 81", "8080, 8080"),
        ("80, 81", "127.0.0.1:8080, 127.0.0.1:8080"),
        ("80, 81", "8080, 127.0.0.1:8080"),
        ("80-90, 100", "8080-8090, 8085"),
    ],
)
def test_duplicate_host_binding_refused(internal: str, external: str) -> None:
    problem = refused(pair_ports, internal, external)
    assert "twice" in problem.message
    assert INTERNAL_PORTS in problem.message
    assert EXTERNAL_PORTS in problem.message


def test_distinct_addresses_may_share_a_port() -> None:
    assert len(pair_ports("80, 81", "127.0.0.1:8080, 192.168.1.2:8080")) == 2


def test_pairing_reports_which_side_does_not_parse() -> None:
    with pytest.raises(PortPairingProblem) as info:
        pair_ports("80x", "8080")
    assert info.value.fields == (INTERNAL_PORTS,)
    assert info.value.item == "80x"
    with pytest.raises(PortPairingProblem) as info:
        pair_ports("80", "80x")
    assert info.value.fields == (EXTERNAL_PORTS,)
    assert info.value.field_ids == ("container.ports.external",)


# --- environment ------------------------------------------------------------------------


def test_env_kura_syntax() -> None:
    assert parse_env("example_var_1=123, example_var_2=123") == [
        ("example_var_1", "123"),
        ("example_var_2", "123"),
    ]
    assert parse_env("") == []


def test_env_values() -> None:
    assert parse_env(r"A=b=c, B=x\,y, C=, D= spaced") == [
        ("A", "b=c"),
        ("B", "x,y"),
        ("C", ""),
        ("D", " spaced"),
    ]


@pytest.mark.parametrize("text", ["FLAG", "=value", "MY VAR=1", "A=1, A=2"])
def test_bad_env(text: str) -> None:
    refused(parse_env, text)


def test_env_without_equals_says_what_is_expected() -> None:
    problem = refused(parse_env, "A=1, FLAG")
    assert problem.item == "FLAG"
    assert "NAME=value" in problem.message


# --- volumes ----------------------------------------------------------------------------


def test_volumes_kura_syntax() -> None:
    assert parse_volumes("/path/on/host1:/path/on/container1, /b:/c") == [
        VolumeMount("/path/on/host1", "/path/on/container1", ""),
        VolumeMount("/b", "/c", ""),
    ]


def test_read_only_is_kept() -> None:
    [mount] = parse_volumes("/a:/b:ro")
    assert mount == VolumeMount("/a", "/b", "ro")
    assert mount.read_only


def test_volume_modes_and_named_volumes() -> None:
    assert parse_volumes(r"/etc/app:/config:ro\,z, data:/var/lib/data, cache:/c:nocopy") == [
        VolumeMount("/etc/app", "/config", "ro,z"),
        VolumeMount("data", "/var/lib/data", ""),
        VolumeMount("cache", "/c", "nocopy"),
    ]
    assert parse_volumes("/a:/b:rshared")[0].mode == "rshared"


@pytest.mark.parametrize(
    "text",
    [
        "/a",
        "/a:/b:ro:x",
        "/a:relative",
        "/a:/",
        "/a:/b:",
        "/a:/b:rx",
        r"/a:/b:ro\,rw",
        r"/a:/b:z\,Z",
        r"/a:/b:shared\,slave",
        r"/a:/b:ro\,ro",
        "/a:/b:nocopy",
        "vol:/b:shared",
        "x:/b",
        "rel/path:/b",
        ":/b",
        "/a:/b, /c:/b/",
        r"C:\data:/b",
    ],
)
def test_bad_volumes(text: str) -> None:
    refused(parse_volumes, text)


# --- devices ----------------------------------------------------------------------------


def test_devices_kura_syntax() -> None:
    assert parse_devices("/dev/gpiomem, /dev/ttyUSB0") == [
        DeviceMapping("/dev/gpiomem", "/dev/gpiomem", "rwm"),
        DeviceMapping("/dev/ttyUSB0", "/dev/ttyUSB0", "rwm"),
    ]


def test_device_forms() -> None:
    assert parse_devices("/dev/a:/dev/b, /dev/c:rw, /dev/d:/dev/e:rwm, /dev/f:mr") == [
        DeviceMapping("/dev/a", "/dev/b", "rwm"),
        DeviceMapping("/dev/c", "/dev/c", "rw"),
        DeviceMapping("/dev/d", "/dev/e", "rwm"),
        DeviceMapping("/dev/f", "/dev/f", "mr"),
    ]
    assert DeviceMapping("/dev/a", "/dev/b", "r").to_docker() == "/dev/a:/dev/b:r"


@pytest.mark.parametrize(
    "text",
    [
        "/dev/a:/dev/b:rwx",
        "/dev/a:/dev/b:rr",
        "/dev/a:/dev/b:",
        "/dev/a:xyz",
        "/dev/a:/dev/b:rw:m",
        "dev/ttyUSB0",
        "/dev/a:dev/b:rw",
        "/dev/a, /dev/a",
    ],
)
def test_bad_devices_refused(text: str) -> None:
    refused(parse_devices, text)


# --- limits -----------------------------------------------------------------------------


def test_memory_kura_test_values() -> None:
    assert parse_memory_size("1111k") == 1137664
    assert parse_memory("2222m") == 2329935872
    assert parse_memory("7g") == 7516192768


def test_memory_forms() -> None:
    assert parse_memory("512M") == parse_memory("512m") == 512 * 1024**2
    assert parse_memory("512mb") == parse_memory("512 MB") == 512 * 1024**2
    assert parse_memory("1.5g") == 1610612736
    assert parse_memory("1 g") == 1024**3
    assert parse_memory("6m") == 6 * 1024**2
    assert parse_memory("6291456") == 6291456
    assert parse_memory("8388608b") == 8388608
    assert parse_memory("0.0078125g") == 8 * 1024**2
    assert parse_memory("6.0000001m") == 6291456  # rounded down
    assert parse_memory("") is None
    assert parse_memory("   ") is None


def test_memory_minimum() -> None:
    problem = refused(parse_memory, "1111k")
    assert "at least 6m" in problem.message
    assert "1137664" in problem.message
    refused(parse_memory, "5m")
    refused(parse_memory, "6291455")


@pytest.mark.parametrize("text", ["12x", "1.5.5g", "-1g", "1e9", "g", "512bb", "1,5g", "10 t"])
def test_bad_memory(text: str) -> None:
    refused(parse_memory, text)


def test_memory_too_large() -> None:
    refused(parse_memory, "9" * 30)
    refused(parse_memory, "8589934592g")


def test_cpus() -> None:
    assert parse_cpus("1.5") == 1.5
    assert parse_cpus(1.5) == 1.5
    assert parse_cpus(2) == 2.0
    assert parse_cpus(" 0.01 ") == 0.01
    assert parse_cpus("0.250") == 0.25
    assert parse_cpus("") is None
    # A Java Float (Kura's AD type) widened to a double still reads as the decimal written.
    assert parse_cpus(0.10000000149011612) == 0.1


@pytest.mark.parametrize(
    "value", ["0", "0.001", "-1", "abc", "1.2345", "nan", "inf", "1e3", 0, -0.5, 1.23456, True]
)
def test_bad_cpus(value: str | float) -> None:
    refused(parse_cpus, value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 10**400])
def test_cpus_not_finite(value: float) -> None:
    refused(parse_cpus, value)


def test_gpus() -> None:
    assert parse_gpus("All") == -1
    assert parse_gpus("all") == -1
    assert parse_gpus("ALL") == -1
    assert parse_gpus("2") == 2
    assert parse_gpus("") is None


@pytest.mark.parametrize("text", ["two", "0", "-1", "1.5", "99999999999", "every"])
def test_bad_gpus(text: str) -> None:
    refused(parse_gpus, text)


# --- logging ----------------------------------------------------------------------------


def test_logger_drivers() -> None:
    assert len(LOGGER_DRIVERS) == 14
    assert LOGGER_DRIVERS["DEFAULT"] == "json-file"
    assert LOGGER_DRIVERS["JSON_FILE"] == "json-file"
    assert LOGGER_DRIVERS["GCPLOGS"] == "gcplogs"
    assert set(READABLE_DRIVERS) == {"json-file", "local", "journald"}


def test_metatype_options_are_all_known() -> None:
    root = ET.parse(METATYPE / "org.eclipse.kura.container.provider.ContainerInstance.xml")
    values = {o.get("value") for o in root.iter() if o.tag.endswith("Option")}
    assert values == set(LOGGER_DRIVERS)


def test_logger_type() -> None:
    assert parse_logger_type("DEFAULT") == "json-file"
    assert parse_logger_type(" journald ") == "journald"
    assert parse_logger_type("Json_File") == "json-file"
    assert parse_logger_type("json-file") == "json-file"
    assert parse_logger_type("NONE") == "none"


@pytest.mark.parametrize("text", ["", "jsonfile", "syslog2", "ＮＯＮＥ"])
def test_unknown_logger_type_refused(text: str) -> None:
    problem = refused(parse_logger_type, text)
    assert "JOURNALD" in problem.message


def test_logger_options_kura_syntax() -> None:
    assert parse_logger_options("max-size=10m, max-file=2") == {
        "max-size": "10m",
        "max-file": "2",
    }
    assert parse_logger_options("") == {}


def test_logger_option_value_keeps_equals() -> None:
    assert parse_logger_options("a=b=c") == {"a": "b=c"}
    assert parse_logger_options(r"labels=a\,b") == {"labels": "a,b"}


@pytest.mark.parametrize("text", ["flag", "=x", "a=1, a=2", "max size=1"])
def test_bad_logger_options(text: str) -> None:
    refused(parse_logger_options, text)


def test_check_logger_options() -> None:
    check_logger_options("json-file", {"max-size": "10m", "tag": "x"})
    check_logger_options("local", {"max-file": "2"})
    check_logger_options("syslog", {"syslog-address": "udp://1.2.3.4:514"})
    check_logger_options("none", {})
    problem = refused(check_logger_options, "local", {"tag": "x"})
    assert problem.item == "tag=x"
    refused(check_logger_options, "none", {"max-size": "10m"})
    refused(check_logger_options, "json-file", {"syslog-address": "x"})


# --- names ------------------------------------------------------------------------------


def test_container_name() -> None:
    assert parse_container_name("mqtt-broker_1.a") == "mqtt-broker_1.a"
    for bad in ["a", "", "-x", "has space", "é1", "a/b"]:
        refused(parse_container_name, bad)


def test_image_name() -> None:
    for name in [
        "nginx",
        "eurotech/esf",
        "registry.example.com:5000/team/app",
        "localhost:5000/a",
        "localhost/a",
        "a__b/c-d/e.f",
        "Registry.Example.com/x",
        "[::1]:5000/x",
    ]:
        assert parse_image_name(name) == name
    for bad in ["", "Nginx", "a/-b", "a//b", "nginx/", "a_", "a" * 256, "my image"]:
        refused(parse_image_name, bad)


@pytest.mark.parametrize("text", ["nginx:1.25", "registry:5000/app:1.0", f"x@{DIGEST}"])
def test_image_name_with_tag_points_to_tag_field(text: str) -> None:
    problem = refused(parse_image_name, text)
    assert "Image tag field" in problem.message


def test_image_tag_and_reference() -> None:
    assert parse_image_tag("latest") == "latest"
    assert parse_image_tag("1.25-alpine_x") == "1.25-alpine_x"
    assert parse_image_tag(DIGEST) == DIGEST
    assert image_reference("nginx", "1.25") == "nginx:1.25"
    assert image_reference("nginx", DIGEST) == f"nginx@{DIGEST}"
    for bad in ["", ".x", "-x", "a" * 129, "sha256:abc", "SHA256:" + "A" * 64, "a b", "a:b"]:
        refused(parse_image_tag, bad)


def test_network_mode() -> None:
    assert parse_network_mode("") is None
    assert parse_network_mode(" host ") == "host"
    assert parse_network_mode("container:broker") == "container:broker"
    assert parse_network_mode("My_Net.1") == "My_Net.1"
    for bad in ["my net", "container:", "-x", "container:a b"]:
        refused(parse_network_mode, bad)


def test_runtime() -> None:
    assert parse_runtime("") is None
    assert parse_runtime("nvidia") == "nvidia"
    assert parse_runtime("io.containerd.runc.v2") == "io.containerd.runc.v2"
    refused(parse_runtime, "bad runtime")


def test_registry_url() -> None:
    for url in [
        "127.0.0.1:5000",
        "registry.example.com",
        "https://index.docker.io/v1/",
        "123456.dkr.ecr.eu-west-1.amazonaws.com/team/",
        "http://[::1]:5000",
    ]:
        assert parse_registry_url(url) == url
    assert parse_registry_url("") is None
    for bad in ["a b", "ftp://x", "host:0", "host:port", "https://", "-bad.example"]:
        refused(parse_registry_url, bad)


def test_docker_host() -> None:
    for url in [
        "unix:///var/run/docker.sock",
        "tcp://192.168.1.10:2376",
        "tcp://gateway",
        "tcp://[::1]:2375",
        "ssh://pi@gateway",
        "ssh://gateway:2222",
        "npipe:////./pipe/docker_engine",
    ]:
        assert parse_docker_host(url) == url
    for bad in ["", "/var/run/docker.sock", "http://x", "unix://relative", "tcp://", "tcp://h:x"]:
        problem = refused(parse_docker_host, bad)
        assert "unix://" in problem.message


def test_file_path() -> None:
    assert parse_file_path("") is None
    assert parse_file_path("/etc/ca.pem") == "/etc/ca.pem"
    assert parse_file_path("~/certs/ca.pem") == "~/certs/ca.pem"
    refused(parse_file_path, "certs/ca.pem")


# --- syntaxes ---------------------------------------------------------------------------


def test_every_metatype_syntax_has_a_parser() -> None:
    used: set[str] = set()
    for path in METATYPE.glob("*.xml"):
        for element in ET.parse(path).iter():
            syntax = element.get("{urn:moorings:metatype:1}syntax")
            if syntax is not None:
                used.add(syntax)
    assert used == set(SYNTAXES)


def test_parse_dispatches() -> None:
    assert parse("arg-list", "a,b") == ["a", "b"]
    assert parse("memory", "7g") == 7516192768
    assert parse("cpus", "1.5") == 1.5
    problem = refused(parse, "no-such-syntax", "x")
    assert "no-such-syntax" in problem.message


LONG_INPUTS = [
    "0" * 5000 + "7g",
    "7." + "1" * 6000 + "g",
    "1" * 5000,
    "1-" + "0" * 5000 + "1",
    "a" * 100_000 + "!",
    "a." * 50_000,
    "[" + ":" * 10_000,
    "a:" * 20_000,
]


@pytest.mark.parametrize("syntax", sorted(SYNTAXES))
def test_long_inputs_only_raise_syntax_problem(syntax: str) -> None:
    for text in LONG_INPUTS:
        with contextlib.suppress(SyntaxProblem):
            SYNTAXES[syntax](text)


def test_long_digit_strings() -> None:
    assert parse_memory("0" * 5000 + "7g") == 7516192768
    assert parse_memory("7." + "0" * 6000 + "1g") == 7516192768
    assert parse_gpus("0" * 5000 + "2") == 2
    refused(parse_internal, "1" * 5000)


def test_line_breaks_separate_items_like_commas() -> None:
    from app.fields.env import parse_env
    from app.fields.lists import split_list

    assert split_list("A=1\nB=2\r\nC=3,D=4") == ["A=1", "B=2", "C=3", "D=4"]
    assert parse_env("A=1\nB=2") == [("A", "1"), ("B", "2")]

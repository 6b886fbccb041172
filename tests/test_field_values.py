"""Values the engine would refuse or change are refused when typed, naming field and item."""

from __future__ import annotations

import io
import json
from pathlib import Path

import docker.errors
import pytest
import requests

from app.cli import main
from app.config.model import validate
from app.engine.errors import explain
from app.engine.hosts import EngineTarget
from app.errors import FieldError
from app.metatype import INSTANCE_FACTORY_PID, SERVICE_PID, load_catalog

CATALOG = load_catalog()
INSTANCE = CATALOG.by_pid(INSTANCE_FACTORY_PID)
SERVICE = CATALOG.by_pid(SERVICE_PID)
LOGGER_PARAMETERS = "container.loggerParameters"


def errors_of(values: dict[str, object], component: object = INSTANCE,
              name: str | None = "web") -> list[FieldError]:
    return validate(component, values, name).errors  # type: ignore[arg-type]


def logger_errors(driver: str, options: str) -> list[FieldError]:
    return [e for e in errors_of({"container.loggingType": driver, LOGGER_PARAMETERS: options})]


# --- Logger Parameters, per driver ----------------------------------------------------------

REFUSED_OPTIONS = [
    # (driver, options, the item named, words of what is expected)
    ("DEFAULT", "max-size=abc", "max-size=abc", "expected a size"),
    ("DEFAULT", "max-size=", "max-size=", "expected a size"),
    ("DEFAULT", "max-size=0", "max-size=0", "at least 1 byte"),
    ("DEFAULT", "max-size=0.5", "max-size=0.5", "at least 1 byte"),
    ("DEFAULT", "max-size=-1", "max-size=-1", "expected a size"),
    ("DEFAULT", "max-size=10e", "max-size=10e", "expected a size"),
    ("DEFAULT", "max-size=.5m", "max-size=.5m", "expected a size"),
    ("DEFAULT", "max-size=1.2.3m", "max-size=1.2.3m", "expected a size"),
    ("DEFAULT", "max-size=10bb", "max-size=10bb", "expected a size"),
    ("DEFAULT", "max-size=99999999999999999999g", "max-size=99999999999999999999g",
     "at most"),
    ("DEFAULT", "max-file=0", "max-file=0", "whole number from 1"),
    ("DEFAULT", "max-file=-1", "max-file=-1", "whole number from 1"),
    ("DEFAULT", "max-file=abc", "max-file=abc", "whole number from 1"),
    ("DEFAULT", "max-file=", "max-file=", "whole number from 1"),
    ("DEFAULT", "max-file=99999999999999999999", "max-file=99999999999999999999",
     "whole number from 1"),
    ("JSON_FILE", "compress=maybe", "compress=maybe", "expected true or false"),
    ("JSON_FILE", "compress=", "compress=", "expected true or false"),
    ("JSON_FILE", "compress=true", "compress=true", "max-file of 2 or more and a max-size"),
    ("JSON_FILE", "compress=true, max-file=2", "compress=true",
     "max-file of 2 or more and a max-size"),
    ("JSON_FILE", "mode=Blocking", "mode=Blocking", "mode=blocking or mode=non-blocking"),
    ("JSON_FILE", "max-buffer-size=4m", "max-buffer-size=4m", "mode=non-blocking"),
    ("JSON_FILE", "mode=non-blocking, max-buffer-size=abc", "max-buffer-size=abc",
     "expected a size"),
    ("LOCAL", "max-size=abc", "max-size=abc", "expected a size"),
    ("LOCAL", "max-file=-1", "max-file=-1", "whole number from 0"),
    ("LOCAL", "max-file=1", "max-file=1", "compress=false"),
    ("LOCAL", "max-file=0", "max-file=0", "compress=false"),
    ("LOCAL", "compress=yes", "compress=yes", "expected true or false"),
    ("SYSLOG", "mode=bogus", "mode=bogus", "mode=blocking or mode=non-blocking"),
]


@pytest.mark.parametrize(("driver", "options", "item", "expected"), REFUSED_OPTIONS)
def test_logger_parameters_the_engine_refuses(driver: str, options: str, item: str,
                                              expected: str) -> None:
    errors = logger_errors(driver, options)
    assert len(errors) == 1, errors
    (error,) = errors
    assert (error.field_id, error.field_name, error.item, error.component) == (
        LOGGER_PARAMETERS, "Logger Parameters", item, "web")
    assert expected in error.message
    assert str(error).startswith(f"web: Logger Parameters ({LOGGER_PARAMETERS}) [{item}]: ")


ACCEPTED_OPTIONS = [
    ("DEFAULT", "max-size=10m"), ("DEFAULT", "max-size=10"), ("DEFAULT", "max-size=10M"),
    ("DEFAULT", "max-size=10mb"), ("DEFAULT", "max-size=10MiB"), ("DEFAULT", "max-size=1.5m"),
    ("DEFAULT", "max-size=10 m"), ("DEFAULT", "max-size=1b"), ("DEFAULT", "max-size=10kB"),
    ("DEFAULT", "max-size=10t"), ("DEFAULT", "max-size=1p"), ("DEFAULT", "max-size=9223372036854k"),
    ("DEFAULT", "max-file=1"), ("DEFAULT", "max-file=+2"), ("DEFAULT", "max-file=02"),
    ("DEFAULT", "max-size=10m, max-file=3, compress=true"),
    ("DEFAULT", "max-size=10m, max-file=3, compress=1"),
    ("DEFAULT", "max-size=10m, max-file=3, compress=T"),
    ("DEFAULT", "compress=false"), ("DEFAULT", "compress=FALSE"),
    ("DEFAULT", "mode=non-blocking, max-buffer-size=4m"), ("DEFAULT", "mode=blocking"),
    ("DEFAULT", "mode="), ("DEFAULT", r"labels=a\,b, env=os, tag={{.Name}}, env-regex=^a"),
    ("LOCAL", "max-size=0"), ("LOCAL", "max-size=0.5"), ("LOCAL", "max-file=2"),
    ("LOCAL", "max-file=1, compress=false"), ("LOCAL", "max-file=0, compress=false"),
    ("LOCAL", "compress=true"), ("LOCAL", "mode=non-blocking, max-buffer-size=1m"),
    ("SYSLOG", "syslog-address=udp://127.0.0.1:514, mode=non-blocking, max-buffer-size=1m"),
    ("SYSLOG", "syslog-address=udp://127.0.0.1:514"),
]


@pytest.mark.parametrize(("driver", "options"), ACCEPTED_OPTIONS)
def test_logger_parameters_the_engine_accepts(driver: str, options: str) -> None:
    assert logger_errors(driver, options) == []


# --- the registry port in an image name -----------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "65536", "123456", "0", "00000"])
def test_image_registry_port_out_of_range(port: str) -> None:
    image = f"127.0.0.1:{port}/team/app"
    (error,) = errors_of({"container.image": image})
    assert error.field_id == "container.image"
    assert error.message == (
        f"{port} in {image} is not a port number; expected the registry's port, from 1 to "
        "65535, after the host, as in 127.0.0.1:5000/team/app")


@pytest.mark.parametrize("port", ["1", "5000", "65535", "00080"])
def test_image_registry_port_in_range(port: str) -> None:
    assert errors_of({"container.image": f"registry.local:{port}/team/app"}) == []


# --- characters the engine cannot pass ------------------------------------------------------

TEXT_FIELDS = [
    # (field id, a value with the character in one item, the item named)
    ("container.entrypoint", "sh, -c, echo a{c}b", "echo a{s}b"),
    ("container.env", "A=1, B=x{c}y", "B=x{s}y"),
    ("container.volume", "/srv/a{c}b:/data", "/srv/a{s}b:/data"),
    ("container.device", "/dev/tty{c}USB0", "/dev/tty{s}USB0"),
    (LOGGER_PARAMETERS, "max-size=10m, tag=a{c}b", "tag=a{s}b"),
    ("registry.username", "te{c}ch", None),
    ("registry.hostname", "127.0.0.1:5000{c}", None),
    ("container.image.tag", "1.{c}25", None),
]
CHARACTERS = [("\0", "\\0", "a NUL character"), ("\ud800", "\\ud800", "an unpaired surrogate")]


@pytest.mark.parametrize(("field_id", "value", "item"), TEXT_FIELDS)
@pytest.mark.parametrize(("char", "shown", "what"), CHARACTERS)
def test_characters_the_engine_cannot_pass(field_id: str, value: str, item: str | None,
                                           char: str, shown: str, what: str) -> None:
    errors = errors_of({field_id: value.format(c=char)})
    assert len(errors) == 1, errors
    (error,) = errors
    assert error.field_id == field_id
    assert error.item == (None if item is None else item.format(s=shown))
    assert what in error.message
    assert "expected" in error.message
    # Printable as it is: the character itself never reaches a terminal or a log.
    assert char not in str(error)
    str(error).encode("utf-8")


def test_a_password_with_nul_is_refused_without_echoing_it() -> None:
    (error,) = errors_of({"registry.password": "pa\0ss-s3cret"})
    assert error.field_id == "registry.password"
    assert "NUL" in error.message
    assert "s3cret" not in str(error)
    assert error.item is None


def test_text_the_engine_passes_is_kept() -> None:
    result = validate(INSTANCE, {"container.entrypoint": "echo, h\u00e9llo, a\x01b",
                                 "container.env": "A=\u2603"}, "web")
    assert result.errors == []
    assert result.values["container.entrypoint"] == "echo, h\u00e9llo, a\x01b"


# --- a password is never echoed -------------------------------------------------------------

PASSWORD = "s3cret"
CREDENTIAL_VALUES = [
    (INSTANCE, "registry.hostname", f"http://tech:{PASSWORD}@127.0.0.1:5000"),
    (INSTANCE, "registry.hostname", f"https://tech:{PASSWORD}@registry.example.com/team/"),
    (INSTANCE, "registry.hostname", f"tech:{PASSWORD}@127.0.0.1:5000"),
    (INSTANCE, "container.image", f"tech:{PASSWORD}@127.0.0.1:5000/team/app"),
    (INSTANCE, "container.image", f"http://tech:{PASSWORD}@127.0.0.1:5000/team/app"),
    (INSTANCE, "container.image", f"https://tech:{PASSWORD}@registry.example.com/app"),
    (INSTANCE, "container.image", f"tech:{PASSWORD}/x@127.0.0.1:5000/app"),
    (INSTANCE, "container.image", f"tech:p@{PASSWORD}@127.0.0.1:5000/app"),
    (INSTANCE, "container.image", f"tech:{PASSWORD}@nginx"),
    (INSTANCE, "registry.hostname", f"https://tech:{PASSWORD}/x@registry.example.com"),
    (SERVICE, "container.engine.host", f"tcp://tech:{PASSWORD}@192.168.1.10:2376"),
    (SERVICE, "container.engine.host", f"ssh://tech:{PASSWORD}@gateway"),
    (SERVICE, "container.engine.host", f"http://tech:{PASSWORD}@gateway:2375"),
]


@pytest.mark.parametrize(("component", "field_id", "value"), CREDENTIAL_VALUES)
def test_credentials_in_an_address_are_refused_and_masked(component: object, field_id: str,
                                                          value: str) -> None:
    name = "web" if component is INSTANCE else None
    errors = errors_of({field_id: value}, component, name)
    assert [e.field_id for e in errors] == [field_id]
    text = str(errors[0])
    assert PASSWORD not in text
    assert "tech:***@" in text
    assert "password" in text.split("tech:***@", 1)[1]
    assert "expected" in text


@pytest.mark.parametrize("image", ["nginx@sha256:bad", "127.0.0.1:5000/app@sha256:bad",
                                   "127.0.0.1:5000/app@sha256:" + "ab" * 32])
def test_a_digest_in_the_image_name_is_still_explained_as_a_digest(image: str) -> None:
    (error,) = errors_of({"container.image": image})
    assert "includes a digest" in error.message
    assert "Image tag field" in error.message


@pytest.mark.parametrize(("component", "field_id", "value"), CREDENTIAL_VALUES)
def test_config_check_never_prints_the_password(tmp_path: Path, component: object,
                                                field_id: str, value: str) -> None:
    if component is INSTANCE:
        doc: dict[str, object] = {"instances": {"web": {field_id: value}}}
    else:
        doc = {"service": {field_id: value}}
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main(["config", "check", str(path), "--config-dir", str(tmp_path / "cfg")],
                out=out, err=err)
    assert code == 1
    assert PASSWORD not in out.getvalue() + err.getvalue()
    assert field_id in err.getvalue()


def test_engine_errors_never_print_a_password_from_a_url() -> None:
    exc = docker.errors.APIError(
        "500 Server Error",
        explanation=f'Get "https://tech:{PASSWORD}@registry.example.com/v2/": dial tcp: '
                    "lookup registry.example.com: no such host",
    )
    sentence = explain(exc, action="pulling registry.example.com/app:1")
    assert PASSWORD not in sentence
    assert "registry.example.com" in sentence
    odd = docker.errors.APIError("500", explanation=f"something odd at ftp://u:{PASSWORD}@h/x")
    assert PASSWORD not in explain(odd, action="creating web")


def test_the_sdk_refusing_an_engine_url_with_a_password_is_masked() -> None:
    url = f"tcp://tech:{PASSWORD}@127.0.0.1:2375"
    with pytest.raises(docker.errors.DockerException) as info:
        EngineTarget(url=url).api_client()
    sentence = explain(info.value, action=f"connecting to the engine at {url}", engine=url)
    assert PASSWORD not in sentence
    assert "tech:***@127.0.0.1:2375" in sentence


def test_engine_connection_errors_never_print_a_password() -> None:
    url = f"tcp://tech:{PASSWORD}@127.0.0.1:9"
    exc = requests.exceptions.ConnectionError("refused")
    assert PASSWORD not in explain(exc, action=f"reaching the engine at {url}", engine=url)
    assert PASSWORD not in (EngineTarget(url=url).security_warning() or "")


def test_the_connection_shown_never_carries_a_password() -> None:
    from app.orchestrator.events import ConnectionChanged

    url = f"tcp://tech:{PASSWORD}@127.0.0.1:2375"
    event = ConnectionChanged(False, url, f"the Docker engine at {url} is not reachable")
    assert event.host == "tcp://tech:***@127.0.0.1:2375"
    assert PASSWORD not in event.reason


@pytest.mark.parametrize(("field_id", "value", "logger"), [
    ("container.env", f"DB=other, DB=postgres://app:{PASSWORD}@db/x", "DEFAULT"),
    ("container.loggerParameters", f"loki-url=https://app:{PASSWORD}@loki:3100/api", "NONE"),
    ("container.loggerParameters", f"tag=x, tag=https://app:{PASSWORD}@x", "DEFAULT"),
])
def test_a_password_inside_another_value_is_masked_in_its_refusal(
    field_id: str, value: str, logger: str
) -> None:
    errors = errors_of({field_id: value, "container.loggingType": logger})
    assert [e.field_id for e in errors] == [field_id]
    (error,) = errors
    assert PASSWORD not in error.message
    assert PASSWORD not in (error.item or "")
    assert "app:***@" in str(error)

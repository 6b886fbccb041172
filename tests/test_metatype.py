"""The field descriptors are data: parsing our XML, and a new AD needing no code change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.config.model import default_values, validate
from app.errors import StoreError
from app.metatype import (
    INSTANCE_FACTORY_PID,
    METATYPE_DIR,
    SERVICE_PID,
    FieldType,
    load_catalog,
    parse_metatype_file,
)

KURA_INSTANCE_IDS = [
    "container.enabled", "container.image", "container.image.tag", "registry.hostname",
    "registry.username", "registry.password", "container.image.download.retries",
    "container.image.download.interval", "container.image.download.timeout",
    "container.ports.internal", "container.ports.external", "container.privileged",
    "container.env", "container.entrypoint", "container.memory", "container.cpus",
    "container.gpus", "container.runtime", "container.volume", "container.device",
    "container.networkMode", "container.loggingType", "container.loggerParameters",
    "container.restart.onfailure",
]


def test_instance_factory_has_kura_fields_types_and_defaults() -> None:
    comp = load_catalog().by_pid(INSTANCE_FACTORY_PID)
    assert comp.is_factory
    ids = comp.field_ids()
    for ad in KURA_INSTANCE_IDS:
        assert ad in ids, ad
    assert comp.field("registry.password").type is FieldType.PASSWORD
    assert comp.field("container.cpus").type is FieldType.FLOAT
    assert comp.field("container.image.download.retries").type is FieldType.INTEGER
    assert comp.secret_ids() == frozenset({"registry.password"})
    defaults = default_values(comp)
    assert defaults["container.image"] == "nginx"
    assert defaults["container.image.tag"] == "latest"
    assert defaults["container.ports.internal"] == "80:tcp"
    assert defaults["container.ports.external"] == "8080"
    assert defaults["container.loggerParameters"] == "max-size=10m"
    assert defaults["container.image.download.retries"] == 5
    assert defaults["container.image.download.interval"] == 30000
    assert defaults["container.image.download.timeout"] == 500
    assert defaults["container.enabled"] is False


def test_logger_type_options_are_kuras_fourteen() -> None:
    ad = load_catalog().by_pid(INSTANCE_FACTORY_PID).field("container.loggingType")
    assert [o.value for o in ad.options] == [
        "NONE", "DEFAULT", "LOCAL", "ETWLOGS", "JSON_FILE", "SYSLOG", "JOURNALD", "GELF",
        "FLUENTD", "AWSLOGS", "DB", "SPLUNK", "GCPLOGS", "LOKI"]
    assert ad.default == "DEFAULT"


def test_service_host_default_follows_docker_host(monkeypatch: pytest.MonkeyPatch) -> None:
    comp = load_catalog().by_pid(SERVICE_PID)
    assert not comp.is_factory
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert default_values(comp)["container.engine.host"] == "unix:///var/run/docker.sock"
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2376")
    assert default_values(comp)["container.engine.host"] == "tcp://127.0.0.1:2376"
    for ad in ("enabled", "tls.ca.cert", "tls.client.cert", "tls.client.key", "tls.verify"):
        assert ad in comp.field_ids()


def test_extra_ad_in_descriptor_file_becomes_a_field(tmp_path: Path) -> None:
    folder = tmp_path / "metatype"
    shutil.copytree(METATYPE_DIR, folder)
    path = folder / f"{INSTANCE_FACTORY_PID}.xml"
    text = path.read_text(encoding="utf-8")
    extra = ('<AD id="container.hostname" name="Host name" type="String" cardinality="0" '
             'required="false" default="gw-1" description="The container host name."/>\n'
             '<AD id="container.stop.timeout" name="Stop timeout" type="Integer" '
             'cardinality="0" required="true" default="10" min="0" max="600" '
             'description="Seconds."/>\n')
    path.write_text(text.replace("</OCD>", extra + "</OCD>"), encoding="utf-8")

    comp = load_catalog(folder).by_pid(INSTANCE_FACTORY_PID)
    assert comp.field("container.hostname").default == "gw-1"
    assert default_values(comp)["container.stop.timeout"] == 10
    ok = validate(comp, {"container.stop.timeout": "30"}, "web")
    assert ok.ok
    assert ok.values["container.stop.timeout"] == 30
    bad = validate(comp, {"container.stop.timeout": 601}, "web")
    assert [e.field_id for e in bad.errors] == ["container.stop.timeout"]
    assert "600" in bad.errors[0].message


def test_broken_descriptor_file_is_reported_by_name(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<MetaData><OCD id='x'><AD id='a' type='Strange'/></OCD></MetaData>")
    with pytest.raises(StoreError, match=r"bad\.xml.*Strange"):
        parse_metatype_file(bad)

"""The Kura codec on hand-written files in Kura's exact format (tests/data/kura/README.md says
which part of the reference each mirrors): what is read, what is refused, and the preview."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from app.config.kura import (
    CodecError,
    ExportFormat,
    decode_text,
    export_configuration,
    plan_import,
    read_configuration,
    skipped_line,
)
from app.config.repository import ConfigRepository
from app.config.store import ConfigStore
from app.config.transfer import KURA_TYPES_KEY, ParsedDocument
from app.metatype import INSTANCE_FACTORY_PID, SERVICE_PID, load_catalog

CATALOG = load_catalog()
DATA = Path(__file__).resolve().parent / "data" / "kura"


def read(name: str) -> ParsedDocument:
    return read_configuration((DATA / name).read_bytes(), CATALOG)


def messages(doc: ParsedDocument) -> list[str]:
    return [str(e) for e in doc.errors]


def values(doc: ParsedDocument, name: str) -> dict[str, object]:
    factory, props = doc.instances[name]
    assert factory == INSTANCE_FACTORY_PID
    return dict(props)


# -- what is read ------------------------------------------------------------------------------

def test_web_ui_snapshot_xml_gives_the_containers_and_the_service() -> None:
    doc = read("snapshot-webui.xml")
    assert doc.errors == []
    assert doc.source == "Kura XML"
    assert sorted(doc.instances) == ["mqtt-broker", "web-nginx"]
    web = values(doc, "web-nginx")
    assert web["container.enabled"] is True
    assert web["container.image"] == "nginx"
    assert web["container.image.tag"] == "1.27-alpine"
    assert web["registry.password"] == "deploy-t0ken"  # Base64 in the file
    assert web["container.image.download.retries"] == 3
    assert web["container.cpus"] == 1.5
    assert web["container.env"] == "MODE=prod, TZ=UTC"
    assert web["container.entrypoint"] == ""  # <esf:value/>
    assert web["container.restart.onfailure"] is True
    # Missing keys take the metatype defaults.
    assert web["container.image.pull.always"] is False
    assert values(doc, "mqtt-broker")["container.networkMode"] == ""
    # OSGi bookkeeping is not a property of the instance.
    assert not {"service.pid", "kura.service.pid", "service.factoryPid"} & set(web)
    assert doc.service is not None
    assert doc.service["container.engine.host"] == "unix:///var/run/docker.sock"
    assert doc.service["enabled"] is True


def test_skipped_components_are_counted_in_one_line() -> None:
    doc = read("snapshot-webui.xml")
    assert doc.skipped == ["org.eclipse.kura.clock.ClockService",
                           "org.eclipse.kura.watchdog.WatchdogService",
                           "org.eclipse.kura.ssl.SslManagerService", "db"]
    assert skipped_line(doc.skipped) == (
        "skipped 4 components that are not containers: org.eclipse.kura.clock.ClockService, "
        "org.eclipse.kura.watchdog.WatchdogService, org.eclipse.kura.ssl.SslManagerService, db")
    many = [f"c{i}" for i in range(14)]
    line = skipped_line(many)
    assert line is not None
    assert line.startswith("skipped 14 components that are not containers: c0, c1")
    assert line.endswith("c7 and 6 more")


def test_kura_only_properties_are_kept_and_named_as_without_effect() -> None:
    doc = read("snapshot-webui.xml")
    web = values(doc, "web-nginx")
    assert web["container.identity.enabled"] is True
    assert web["container.permissions"] == "rest.configuration,rest.inventory"
    assert web["container.signature.verify.transparency.log"] is True
    for prop in ("container.identity.enabled", "container.permissions"):
        assert f"web-nginx: {prop} is not a field Moorings knows; it is kept as it is but has " \
               "no effect." in doc.warnings
    # Kura's signature and enforcement fields are Moorings' own fields now: no warning.
    assert not [w for w in doc.warnings if "enforcement" in w or "signature" in w]
    # Every type here follows from the value: no record of types is needed.
    assert KURA_TYPES_KEY not in web


def test_conf_v1_body_with_ocds_and_the_streaming_writers_attributes() -> None:
    doc = read("conf-v1-configurations.xml")
    assert doc.errors == []
    web = values(doc, "web-nginx")
    assert web["container.loggingType"] == "JSON_FILE"
    assert web["registry.password"] == "s3cret"
    # The OCD's AD elements are not taken for properties.
    assert "container.enabled" in web
    assert web["container.enabled"] is True
    assert doc.service is not None
    assert doc.service["container.engine.host"] == \
        "unix:///run/docker.sock"
    assert doc.skipped == ["org.eclipse.kura.cloud.CloudService"]


def test_hand_written_seed_without_bookkeeping_or_flags() -> None:
    doc = read("seed-handwritten.xml")
    assert doc.errors == []
    assert doc.service is None
    ui = values(doc, "printer-ui")
    assert ui["container.enabled"] is True  # "TRUE": Kura's parseBoolean ignores case
    assert ui["container.image"] == "registry.line3.example/printer-ui"
    assert ui["container.device"] == "/dev/usb/lp0"
    assert ui["container.image.download.retries"] == 5


def test_web_ui_json_snapshot_has_plain_passwords() -> None:
    doc = read("snapshot-webui.json")
    assert doc.errors == []
    assert doc.source == "Kura JSON"
    web = values(doc, "web-nginx")
    assert web["registry.password"] == "deploy-t0ken"
    assert web["container.cpus"] == 1.5
    assert web["container.image.download.retries"] == 3
    assert doc.skipped == ["org.eclipse.kura.clock.ClockService"]


def test_rest_placeholder_password_is_no_password_and_says_so() -> None:
    doc = read("rest-v2-configurations.json")
    assert doc.errors == []
    web = values(doc, "web-nginx")
    assert "registry.password" not in web or web["registry.password"] != "placeholder"
    assert doc.absent_secrets["web-nginx"] == {"registry.password"}
    [warning] = [w for w in doc.warnings if "registry.password" in w]
    assert warning.startswith("web-nginx: Password (registry.password) was not imported: the "
                              "file holds Kura's placeholder instead of the password")
    assert "Type the password in Moorings" in warning


def test_placeholder_keeps_the_stored_password(tmp_path: Path) -> None:
    repo = ConfigRepository(ConfigStore(tmp_path), CATALOG)
    repo.import_document(read("snapshot-webui.json"))
    assert repo.instance("web-nginx").values["registry.password"] == "deploy-t0ken"
    plan = plan_import(read("rest-v2-configurations.json"), repo)
    assert plan.replaced == ("web-nginx",)
    repo.import_document(plan.document)
    assert repo.instance("web-nginx").values["registry.password"] == "deploy-t0ken"


def test_rest_create_body_names_the_factory_beside_the_pid() -> None:
    doc = read("rest-v2-create.json")
    assert doc.errors == []
    web = values(doc, "web-nginx")
    assert web["container.image"] == "nginx"
    assert web["container.enabled"] is True


# -- passwords -----------------------------------------------------------------------------------

def test_kura_ciphertext_is_refused_for_that_instance_with_what_to_do() -> None:
    doc = read("ondisk-ciphertext.xml")
    assert doc.errors == []
    for name in ("web-nginx", "old-gateway-app"):
        assert "registry.password" not in values(doc, name) or \
            values(doc, name)["registry.password"] == ""
        assert doc.absent_secrets[name] == {"registry.password"}
        [warning] = [w for w in doc.warnings if w.startswith(f"{name}: Password")]
        assert "Kura's encrypted form" in warning
        assert "only that gateway can decrypt" in warning
        assert "Download the snapshot from Kura's web UI" in warning
        assert "type the password" in warning
    # The rest of the instance is read.
    assert values(doc, "web-nginx")["registry.username"] == "deploy"
    # No part of the encrypted value appears in any message.
    text = " ".join(doc.warnings)
    assert "QnJjUnpH" not in text
    assert "tmRif" not in text


def test_ciphertext_never_becomes_a_stored_password(tmp_path: Path) -> None:
    repo = ConfigRepository(ConfigStore(tmp_path), CATALOG)
    repo.import_document(read("ondisk-ciphertext.xml"))
    assert repo.instance("web-nginx").values["registry.password"] == ""
    secrets = (tmp_path / "secrets.json").read_text() if (tmp_path / "secrets.json").exists() \
        else ""
    assert "BrcRzGK8" not in secrets
    assert "QnJjUnpH" not in secrets


def kura_xml(*props: str, pid: str = "web") -> bytes:
    body = "".join(props)
    return (f'<?xml version="1.0" encoding="UTF-8"?><esf:configurations '
            f'xmlns:esf="http://eurotech.com/esf/2.0"><esf:configuration pid="{pid}">'
            f'<esf:properties><esf:property name="service.factoryPid" type="String">'
            f'<esf:value>{INSTANCE_FACTORY_PID}</esf:value></esf:property>{body}'
            f'</esf:properties></esf:configuration></esf:configurations>').encode()


def prop(name: str, kind: str, *vals: str, array: bool = False, encrypted: bool = False) -> str:
    inner = "".join(f"<esf:value>{v}</esf:value>" for v in vals)
    return (f'<esf:property name="{name}" array="{str(array).lower()}" '
            f'encrypted="{str(encrypted).lower()}" type="{kind}">{inner}</esf:property>')


def test_encrypted_false_password_is_literal() -> None:
    doc = read_configuration(kura_xml(prop("registry.password", "Password", "czNjcmV0")),
                             CATALOG)
    assert values(doc, "web")["registry.password"] == "czNjcmV0"


def test_not_base64_is_refused_not_stored() -> None:
    doc = read_configuration(kura_xml(prop("registry.password", "Password", "not base64!",
                                           encrypted=True)), CATALOG)
    assert doc.errors == []
    assert doc.absent_secrets["web"] == {"registry.password"}
    assert any("is not Base64" in w for w in doc.warnings)


@pytest.mark.parametrize("kind", ["Boolean", "Integer", "Char", "Float"])
def test_a_password_written_with_another_type_is_never_echoed(kind: str) -> None:
    doc = read_configuration(kura_xml(prop("registry.password", kind, "s3cret-xyz")), CATALOG)
    assert doc.errors
    text = " ".join([*messages(doc), *doc.warnings])
    assert "s3cret" not in text
    assert "web: Password (registry.password): cannot be read as a " in text


def test_a_password_no_field_uses_is_not_kept_in_plain() -> None:
    doc = read_configuration(kura_xml(prop("container.identity.password", "Password",
                                           "czNjcmV0", encrypted=True)), CATALOG)
    assert "container.identity.password" not in values(doc, "web")
    assert any("container.identity.password is a password that no Moorings field uses" in w
               for w in doc.warnings)


# -- Kura's quirks, followed and reported --------------------------------------------------------

def test_unknown_type_is_an_error_not_a_silent_drop() -> None:
    doc = read("unknown-type.xml")
    assert messages(doc) == [
        "web-nginx: Image name (container.image): has the type 'string', which Kura does not "
        "know (Kura would drop the property without a word); expected one of String, Long, "
        "Double, Float, Integer, Byte, Char, Boolean, Short, Password."]


def test_other_prefix_is_explained() -> None:
    doc = read("prefix-ns2.xml")
    [message] = messages(doc)
    assert "ns2:configuration elements but no esf:configuration" in message
    assert "literal prefix esf" in message


def test_nothing_found_is_an_error() -> None:
    doc = read("no-containers.xml")
    [message] = messages(doc)
    assert "no container instance and no ContainerOrchestrationService" in message
    assert "skipped 2 components that are not containers" in message
    empty = read_configuration(b'<?xml version="1.0"?><esf:configurations '
                               b'xmlns:esf="http://eurotech.com/esf/2.0"/>', CATALOG)
    assert "holds no configuration at all" in messages(empty)[0]
    assert "holds no configuration at all" in messages(
        read_configuration(b'{"configs": []}', CATALOG))[0]


@pytest.mark.parametrize(("props", "expected"), [
    (prop("container.image", "String"), "has no esf:value"),
    (prop("container.image", "String", "a", "b"), "has 2 esf:value elements but is not an array"),
    (prop("container.enabled", "Boolean", "yes"), "expected true or false (Kura would read"),
    (prop("container.enabled", "Boolean", ""), "expected true or false"),
    (prop("container.image.download.retries", "Integer", " 5"), "expected a whole number"),
    (prop("container.image.download.retries", "Integer", "3000000000"),
     "out of range for a Integer"),
    (prop("container.cpus", "Float", "NaN"), "expected a number such as 1.5"),
    (prop("container.cpus", "Float", "1e39"), "too large for a Float"),
    (prop("kura.x", "Char", "ab"), "a Char holds exactly one"),
    (prop("container.env", "String", "A=1", "B=2", array=True), "is an array of 2 values"),
    ('<esf:property name="container.image" array="maybe" type="String">'
     '<esf:value>x</esf:value></esf:property>', "array attribute is 'maybe'"),
    ('<esf:property name="container.image" type="String"><esf:value>x<b/></esf:value>'
     '</esf:property>', "an esf:value holds an element"),
    (prop("container.image", "String", "a") + prop("container.image", "String", "b"),
     "appears twice"),
])
def test_what_kura_would_lose_is_an_error_naming_instance_and_property(
        props: str, expected: str) -> None:
    doc = read_configuration(kura_xml(props), CATALOG)
    assert doc.errors, doc.warnings
    assert any(expected in m and m.startswith("web: ") for m in messages(doc)), messages(doc)


def test_values_convert_by_declared_type_and_a_mismatch_is_a_warning() -> None:
    doc = read_configuration(kura_xml(
        prop("container.image.download.retries", "String", "7"),
        prop("container.cpus", "Double", "2.5"),
        prop("kura.small", "Long", "12"),
        prop("kura.ratio", "Float", "0.25"),
        prop("kura.letter", "Char", "x"),
        prop("kura.list", "String", "a", " b ", array=True),
        prop("kura.empty", "String", array=True)), CATALOG)
    assert doc.errors == [], messages(doc)
    web = values(doc, "web")
    assert web["container.image.download.retries"] == 7
    assert web["container.cpus"] == 2.5
    assert any("Image Download Retries (container.image.download.retries) is written as String "
               "where the field is Integer" in w for w in doc.warnings)
    assert any("container.cpus) is written as Double" in w for w in doc.warnings)
    assert web["kura.small"] == 12
    assert web["kura.list"] == '["a", " b "]'  # values are never trimmed
    assert json.loads(str(web[KURA_TYPES_KEY])) == {
        "kura.small": "Long", "kura.ratio": "Float", "kura.letter": "Char",
        "kura.list": "String[]", "kura.empty": "String[]"}


def test_kura_service_pid_that_differs_is_a_warning_and_the_pid_wins() -> None:
    doc = read_configuration(kura_xml(prop("kura.service.pid", "String", "other")), CATALOG)
    assert list(doc.instances) == ["web"]
    assert "web: kura.service.pid is other but the configuration's pid is web; Kura names " \
           "the instance by the pid, and so does Moorings." in doc.warnings


def test_the_same_pid_twice_is_an_error() -> None:
    one = kura_xml().decode()
    head, _, tail = one.partition("<esf:configuration ")
    config = "<esf:configuration " + tail.rpartition("</esf:configurations>")[0]
    doc = read_configuration((head + config + config + "</esf:configurations>").encode(),
                             CATALOG)
    assert any("more than one configuration with pid web" in m for m in messages(doc))


def test_validation_errors_name_instance_field_and_item() -> None:
    doc = read_configuration(kura_xml(prop("container.ports.internal", "String", "80-90x"),
                                      prop("container.memory", "String", "lots")), CATALOG)
    text = "\n".join(messages(doc))
    assert "web: Internal Ports (container.ports.internal) [80-90x]" in text
    assert "web: Memory (container.memory)" in text


# -- hostile input -------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "expected"), [
    ((DATA / "billion-laughs.xml").read_bytes(), "declares a DTD"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
     b'<esf:configurations><esf:configuration pid="a">&e;</esf:configuration>'
     b'</esf:configurations>', "declares a DTD"),
    (b'<?xml version="1.0" encoding="ISO-8859-1"?><esf:configurations/>',
     "declares the encoding 'ISO-8859-1'"),
    ('<?xml version="1.0" encoding="UTF-16"?><esf:configurations/>'.encode("utf-16"),
     "UTF-16 text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    (b"\x1f\x8b\x08\x00", "compressed"),
    (b"<esf:configurations><esf:configuration pid='a'>", "not well-formed XML"),
    (b"caf\xe9", "not UTF-8 text (byte 0xe9 at offset 3)"),
    (b"hello", "neither JSON nor XML"),
    (b"AAAAAAAAAAAAAAAA-" + base64.b64encode(b"x" * 64), "as Kura keeps it on disk"),
    (b"<a>" * 40 + b"</a>" * 40, "nested more than 32"),
    (b"<r>" + b"<a/>" * 200_001 + b"</r>", "more than 200000 elements"),
    (b" " * (16 * 1024 * 1024 + 1), "more than 16 MiB"),
])
def test_hostile_input_is_refused_with_one_sentence(data: bytes, expected: str) -> None:
    doc = read_configuration(data, CATALOG)
    assert len(doc.errors) == 1, messages(doc)
    assert expected in doc.errors[0].message, doc.errors[0].message
    assert doc.instances == {}
    assert doc.service is None


def test_decode_text_names_what_is_wrong() -> None:
    with pytest.raises(CodecError, match="not UTF-8 text"):
        decode_text(b"\xff\xff")
    assert decode_text(b"\xef\xbb\xbf{}") == "{}"


def test_moorings_json_is_still_read_by_content() -> None:
    doc = read_configuration(b'{"instances": {"web": {"container.image": "nginx"}}}', CATALOG)
    assert doc.errors == []
    assert doc.source == "Moorings JSON"
    assert values(doc, "web")["container.image"] == "nginx"


# -- the preview -------------------------------------------------------------------------------

def test_plan_says_what_would_change_and_writes_nothing(tmp_path: Path) -> None:
    repo = ConfigRepository(ConfigStore(tmp_path), CATALOG)
    repo.create_instance("mqtt-broker", values={"container.image": "eclipse-mosquitto",
                                                "container.image.tag": "1"})
    repo.create_instance("local-only")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    plan = plan_import(read("snapshot-webui.xml"), repo)
    assert plan.ok
    assert plan.created == ("web-nginx",)
    assert plan.replaced == ("mqtt-broker",)
    assert plan.untouched == ("local-only",)
    assert plan.unchanged == ()
    # The file's service values (enforcement off, an empty allowlist) are the defaults.
    assert plan.service_changes == ()
    assert plan.skipped == ["org.eclipse.kura.clock.ClockService",
                            "org.eclipse.kura.watchdog.WatchdogService",
                            "org.eclipse.kura.ssl.SslManagerService", "db"]
    assert plan.summary() == [
        "Would create: web-nginx.",
        "Would replace: mqtt-broker.",
        "Would leave as they are (not in the file): local-only.",
        "The service settings are already as in the file.",
        "Skipped 4 components that are not containers: org.eclipse.kura.clock.ClockService, "
        "org.eclipse.kura.watchdog.WatchdogService, org.eclipse.kura.ssl.SslManagerService, db."]
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before
    # Imported, the same file changes nothing more.
    repo.import_document(plan.document)
    again = plan_import(read("snapshot-webui.xml"), repo)
    assert again.unchanged == ("mqtt-broker", "web-nginx")
    assert again.created == again.replaced == ()
    assert again.service_changes == ()


def test_plan_of_a_bad_file_lists_every_error_and_nothing_else(tmp_path: Path) -> None:
    repo = ConfigRepository(ConfigStore(tmp_path), CATALOG)
    plan = plan_import(read("unknown-type.xml"), repo)
    assert not plan.ok
    assert plan.created == plan.replaced == ()
    assert plan.summary() == ["1 error in this Kura XML file; importing it would write nothing."]


# -- writing -------------------------------------------------------------------------------------

def export(doc: ParsedDocument, fmt: ExportFormat, *, secrets: bool = True) -> bytes:
    service = dict(doc.service or {})
    return export_configuration(fmt, service, doc.instances, CATALOG, include_secrets=secrets)


def test_kura_xml_export_is_in_kuras_exact_form() -> None:
    text = export(read("snapshot-webui.xml"), ExportFormat.KURA_XML).decode()
    lines = text.splitlines()
    assert lines[0] == '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    assert lines[1] == ('<esf:configurations xmlns:esf="http://eurotech.com/esf/2.0" '
                        'xmlns:ocd="http://www.osgi.org/xmlns/metatype/v1.2.0">')
    assert f'    <esf:configuration pid="{SERVICE_PID}">' in lines
    assert '    <esf:configuration pid="web-nginx">' in lines
    assert ('            <esf:property name="registry.password" array="false" '
            'encrypted="true" type="Password">') in lines
    assert "                <esf:value>ZGVwbG95LXQwa2Vu</esf:value>" in lines
    assert "                <esf:value>1.27-alpine</esf:value>" in lines
    assert ('            <esf:property name="container.cpus" array="false" encrypted="false" '
            'type="Float">') in lines
    for line in lines:
        if "<esf:value>" in line:
            value = line.split("<esf:value>", 1)[1].rsplit("</esf:value>", 1)[0]
            assert value == value.strip()


def test_passwords_are_left_out_unless_asked_for() -> None:
    doc = read("snapshot-webui.xml")
    for fmt in (ExportFormat.KURA_XML, ExportFormat.KURA_JSON):
        plain = export(doc, fmt, secrets=False).decode()
        assert "registry.password" not in plain
        assert "deploy-t0ken" not in plain
        assert "ZGVwbG95LXQwa2Vu" not in plain
    with_json = json.loads(export(doc, ExportFormat.KURA_JSON))
    web = next(c for c in with_json["configs"] if c["pid"] == "web-nginx")
    assert web["properties"]["registry.password"] == {"type": "PASSWORD",
                                                      "value": "deploy-t0ken"}
    assert web["properties"]["service.factoryPid"] == {"type": "STRING",
                                                       "value": INSTANCE_FACTORY_PID}
    assert web["properties"]["container.image.download.retries"] == {"type": "INTEGER",
                                                                     "value": 3}


def test_a_value_xml_cannot_carry_is_refused_naming_it() -> None:
    doc = read_configuration(b'{"instances": {"web": {"container.env": "A=\\u0001"}}}', CATALOG)
    assert doc.errors == []
    with pytest.raises(CodecError, match=r"web: container.env holds the character U\+0001"):
        export(doc, ExportFormat.KURA_XML)
    assert b"\\u0001" in export(doc, ExportFormat.KURA_JSON)


def props_of(xml_text: bytes) -> dict[str, dict[str, tuple[str, str, tuple[str, ...]]]]:
    """Every property of every configuration: (type, array, values)."""
    from app.config.kura_wire import read_xml

    return {c.pid: {p.name: (p.type_text or "", str(p.array), tuple(map(str, p.values)))
                    for p in c.properties}
            for c in read_xml(xml_text.decode())}


@pytest.mark.parametrize("fixture", ["snapshot-webui.xml", "conf-v1-configurations.xml",
                                     "seed-handwritten.xml"])
def test_kura_xml_to_moorings_to_kura_xml_keeps_every_property(fixture: str) -> None:
    original = (DATA / fixture).read_bytes()
    written = export(read(fixture), ExportFormat.KURA_XML)
    before, after = props_of(original), props_of(written)
    doc = read(fixture)
    for pid in [*doc.instances, *([SERVICE_PID] if doc.service is not None else [])]:
        for name, (kind, array, vals) in before[pid].items():
            if name == "service.pid" and pid != SERVICE_PID:
                continue  # generated by each gateway's ConfigAdmin, meaningless elsewhere
            assert name in after[pid], (pid, name)
            got_kind, got_array, got_vals = after[pid][name]
            if kind == "Boolean":
                vals = tuple(v.lower() for v in vals)  # "TRUE" is read as Kura reads it
            assert got_vals == vals, (pid, name)
            assert got_array == array, (pid, name)
            assert got_kind in (kind, "String" if kind == "" else kind), (pid, name)


def test_unusual_kura_types_come_back_as_kura_wrote_them() -> None:
    source = kura_xml(prop("kura.small", "Long", "12"), prop("kura.ratio", "Float", "0.25"),
                      prop("kura.letter", "Char", "x"), prop("kura.list", "Short", "1", "2",
                                                             array=True),
                      prop("kura.empty", "String", array=True))
    written = props_of(export(read_configuration(source, CATALOG), ExportFormat.KURA_XML))
    web = written["web"]
    assert web["kura.small"] == ("Long", "False", ("12",))
    assert web["kura.ratio"] == ("Float", "False", ("0.25",))
    assert web["kura.letter"] == ("Char", "False", ("x",))
    assert web["kura.list"] == ("Short", "True", ("1", "2"))
    assert web["kura.empty"] == ("String", "True", ())
    assert KURA_TYPES_KEY not in web


def test_kura_json_reads_back_what_it_writes() -> None:
    doc = read("snapshot-webui.xml")
    again = read_configuration(export(doc, ExportFormat.KURA_JSON), CATALOG)
    assert again.errors == []
    assert again.instances == doc.instances
    assert again.service == doc.service

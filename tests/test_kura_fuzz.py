"""Random XML and JSON fed to the Kura readers: only the codec's own error comes out of them,
and reading any bytes gives a document (with errors, or one that writes back the same)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config.kura import ExportFormat, export_configuration, read_configuration
from app.config.kura_wire import CodecError, read_json, read_xml
from app.metatype import INSTANCE_FACTORY_PID, load_catalog

CATALOG = load_catalog()
FIELDS = list(CATALOG.by_pid(INSTANCE_FACTORY_PID).field_ids())
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

TYPES = ["String", "Long", "Double", "Float", "Integer", "Byte", "Char", "Boolean", "Short",
         "Password", "string", "", "Int"]
NAMES = st.sampled_from([*FIELDS, "service.factoryPid", "kura.service.pid", "service.pid",
                         "kura.x", "", "a\"b"])
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


@st.composite
def esf_property(draw: st.DrawFn) -> str:
    attrs = []
    name = draw(NAMES)
    if draw(st.booleans()):
        attrs.append(f'name="{_escape(name)}"')
    if draw(st.booleans()):
        attrs.append(f'type="{draw(st.sampled_from(TYPES))}"')
    for flag in ("array", "encrypted"):
        if draw(st.booleans()):
            attrs.append(f'{flag}="{draw(st.sampled_from(["true", "false", "TRUE", "x"]))}"')
    values = draw(st.lists(st.one_of(TEXT, st.sampled_from(
        ["true", "5", "-1", "1.5", "czNjcmV0", INSTANCE_FACTORY_PID, "80:tcp", "9" * 30])),
        max_size=3))
    inner = "".join(f"<esf:value>{_escape(v)}</esf:value>" for v in values)
    return f"<esf:property {' '.join(attrs)}>{inner}</esf:property>"


@st.composite
def esf_document(draw: st.DrawFn) -> str:
    configs = []
    for _ in range(draw(st.integers(0, 3))):
        pid = draw(st.sampled_from(["web", "db", "", "bad name!",
                                    "org.eclipse.kura.container.orchestration.provider."
                                    "ContainerOrchestrationService"]))
        factory = ('<esf:property name="service.factoryPid" type="String"><esf:value>'
                   f'{INSTANCE_FACTORY_PID}</esf:value></esf:property>'
                   if draw(st.booleans()) else "")
        props = "".join(draw(st.lists(esf_property(), max_size=6)))
        ocd = '<ocd:OCD id="x"><ocd:AD id="a" type="String"/></ocd:OCD>' \
            if draw(st.booleans()) else ""
        configs.append(f'<esf:configuration pid="{_escape(pid)}">{ocd}<esf:properties>'
                       f"{factory}{props}</esf:properties></esf:configuration>")
    header = draw(st.sampled_from(['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
                                   '<?xml version="1.0" encoding="UTF-8"?>', ""]))
    return (f'{header}<esf:configurations xmlns:esf="http://eurotech.com/esf/2.0" '
            f'xmlns:ocd="http://www.osgi.org/xmlns/metatype/v1.2.0">{"".join(configs)}'
            "</esf:configurations>")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=12)


@st.composite
def kura_json(draw: st.DrawFn) -> object:
    configs = []
    for _ in range(draw(st.integers(0, 3))):
        props = {}
        for name in draw(st.lists(NAMES, max_size=5)):
            props[name] = draw(st.one_of(
                st.fixed_dictionaries({"type": st.sampled_from([t.upper() for t in TYPES]),
                                       "value": JSON_VALUES}), JSON_VALUES))
        props["service.factoryPid"] = {"type": "STRING", "value": INSTANCE_FACTORY_PID}
        configs.append(draw(st.one_of(
            st.just({"pid": draw(st.sampled_from(["web", "", "x y"])), "properties": props}),
            JSON_VALUES)))
    return {"configs": configs} if draw(st.booleans()) else draw(JSON_VALUES)


def _reads_or_refuses(call: Callable[[], object]) -> None:
    with contextlib.suppress(CodecError):
        call()


@SETTINGS
@given(st.text(max_size=300))
def test_random_text_as_xml_raises_only_the_codec_error(text: str) -> None:
    _reads_or_refuses(lambda: read_xml(text))
    _reads_or_refuses(lambda: read_xml("<esf:configurations>" + text + "</esf:configurations>"))


@SETTINGS
@given(esf_document())
def test_random_esf_documents_raise_only_the_codec_error(text: str) -> None:
    _reads_or_refuses(lambda: read_xml(text))


@SETTINGS
@given(kura_json())
def test_random_json_raises_only_the_codec_error(doc: object) -> None:
    _reads_or_refuses(lambda: read_json(doc))


def _document_then_round_trip(data: bytes) -> None:
    doc = read_configuration(data, CATALOG)  # never raises
    if doc.errors:
        return
    for fmt in (ExportFormat.KURA_XML, ExportFormat.KURA_JSON):
        try:
            written = export_configuration(fmt, dict(doc.service or {}), doc.instances, CATALOG,
                                           include_secrets=True)
        except CodecError:
            assert fmt is ExportFormat.KURA_XML  # a value XML cannot carry
            continue
        again = read_configuration(written, CATALOG)
        assert again.errors == [], [str(e) for e in again.errors]
        assert again.instances == doc.instances
        if doc.service is not None:
            assert again.service == doc.service


@SETTINGS
@given(esf_document())
def test_any_esf_document_reads_to_a_document_that_writes_back_the_same(text: str) -> None:
    _document_then_round_trip(text.encode("utf-8"))


@SETTINGS
@given(kura_json())
def test_any_kura_json_reads_to_a_document_that_writes_back_the_same(doc: object) -> None:
    _document_then_round_trip(json.dumps(doc).encode("utf-8"))


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_read_to_a_document(data: bytes) -> None:
    read_configuration(data, CATALOG)
    read_configuration(b"<?xml version='1.0'?>" + data, CATALOG)

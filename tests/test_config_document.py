"""Hostile import documents: sentences, never tracebacks; `check` and `import` always agree."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import EXIT_INVALID, EXIT_OK, main
from app.config.transfer import parse_document
from app.metatype import INSTANCE_FACTORY_PID, load_catalog

CATALOG = load_catalog()
FIELD_IDS = sorted(CATALOG.by_pid(INSTANCE_FACTORY_PID).field_ids())


def run(cfg: Path, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--config-dir", str(cfg), *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def check_and_import(folder: Path, text: str) -> tuple[tuple[int, str], tuple[int, str]]:
    """Run `config check` then `config import` on the same text; (code, stderr) of each."""
    doc = folder / "doc.json"
    doc.write_text(text, encoding="utf-8", errors="surrogatepass")
    cfg = folder / "cfg"
    checked = run(cfg, "config", "check", str(doc))
    imported = run(cfg, "config", "import", str(doc))
    return (checked[0], checked[2]), (imported[0], imported[2])


def instance(props: str) -> str:
    return '{"instances": {"web": {"properties": ' + props + "}}}"


HOSTILE = [
    # (document, what the one error must say)
    pytest.param(instance('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"), "nested too deeply",
                 id="deep-list"),
    pytest.param('{"instances": ' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "}",
                 "nested too deeply", id="deep-object"),
    pytest.param(instance('{"x": ' + "7" * 5000 + "}"), "5000 digits", id="huge-int-unknown"),
    pytest.param(instance('{"container.image.download.retries": -' + "9" * 4301 + "}"),
                 "4301 digits", id="huge-int-field"),
    pytest.param(instance('{"x": NaN}'), "NaN", id="nan-unknown"),
    pytest.param(instance('{"x": -Infinity}'), "-Infinity", id="minus-infinity-unknown"),
    pytest.param(instance('{"x": 1e400}'), "1e400", id="float-overflow-unknown"),
    pytest.param('{"schema": NaN}', "NaN", id="nan-schema"),
    pytest.param(instance('{"container.image": "a", "container.image": "b"}'),
                 '"container.image" appears twice in instances → "web" → properties',
                 id="duplicate-property"),
    pytest.param('{"instances": {"web": {}, "web": {}}}', '"web" appears twice in instances',
                 id="duplicate-instance"),
    pytest.param('{"instances": {}, "instances": {"web": {}}}',
                 '"instances" appears twice at the top level', id="duplicate-top-level"),
    pytest.param('{"service": {"enabled": true, "enabled": false}}',
                 '"enabled" appears twice in service', id="duplicate-service"),
    pytest.param(instance('{"x": [1, 2]}'),
                 "x is a list; expected true/false, a number or text", id="list-unknown"),
    pytest.param(instance('{"x": {"y": 1}}'),
                 "x is an object; expected true/false, a number or text", id="object-unknown"),
    pytest.param(instance('{"x": ' + "[" * 500 + "]" * 500 + "}"), "x is a list",
                 id="nested-list-unknown"),
    pytest.param(instance('{"container.image.download.retries": ' + "[" * 500 + "]" * 500 + "}"),
                 "a list is not a whole number", id="nested-list-field"),
    pytest.param('{"instances": {"web": {"factoryPid": ["a"]}}}',
                 "factoryPid must be text", id="list-factory"),
    pytest.param('{"schema": "2"}', "expected a whole number", id="text-schema"),
]


@pytest.mark.parametrize(("text", "expected"), HOSTILE)
def test_hostile_document_gets_one_sentence_from_check_and_import(
    tmp_path: Path, text: str, expected: str
) -> None:
    (check_code, check_err), (import_code, import_err) = check_and_import(tmp_path, text)
    assert check_code == import_code == EXIT_INVALID, (check_err, import_err)
    assert check_err == import_err
    assert expected in check_err, check_err
    assert "Traceback" not in check_err
    assert "1 error; nothing was written." in check_err
    # The whole value never comes back: at most a short part of it.
    assert len(check_err) < 1000
    assert not (tmp_path / "cfg").exists()


def test_duplicate_keys_are_all_named(tmp_path: Path) -> None:
    text = ('{"instances": {"web": {"properties": {"container.image": "a", '
            '"container.image": "b", "container.env": "A=1", "container.env": "A=2"}}}}')
    result = parse_document(text, CATALOG)
    messages = [str(e) for e in result.errors]
    assert len(messages) == 2, messages
    assert all(m.startswith("web: Document") for m in messages)
    assert any('"container.image"' in m for m in messages)
    assert any('"container.env"' in m for m in messages)


def test_a_list_valued_unknown_property_is_never_stored_as_repr(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    doc = tmp_path / "doc.json"
    doc.write_text(instance('{"container.image": "nginx", "kura.extra": ["a", "b"]}'))
    code, _, err = run(cfg, "config", "import", str(doc))
    assert code == EXIT_INVALID
    assert "web: Unknown property (kura.extra): kura.extra is a list" in err
    assert "['a', 'b']" not in err
    assert not (cfg / "moorings.json").exists()


def test_scalar_unknown_properties_are_still_kept(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    doc = tmp_path / "doc.json"
    doc.write_text(instance('{"kura.a": "text", "kura.b": 5, "kura.c": 1.5, "kura.d": true}'))
    code, _, err = run(cfg, "config", "import", str(doc))
    assert code == EXIT_OK, err
    code, out, _ = run(cfg, "config", "export")
    props = json.loads(out)["instances"]["web"]["properties"]
    assert (props["kura.a"], props["kura.b"], props["kura.c"], props["kura.d"]) == (
        "text", 5, 1.5, True)


# --- check and import are one code path ---------------------------------------------------

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["", "nginx", "80:tcp", "max-size=abc", "max-file=0", "a\0b", "\ud800",
                     "true", "5", "1e400", "NaN"]),
)
values = st.recursive(
    st.one_of(st.none(), scalars),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=6,
)
keys = st.one_of(st.sampled_from([*FIELD_IDS, "factoryPid", "kura.service.pid", "properties"]),
                 st.text(max_size=6))
properties = st.dictionaries(keys, values, max_size=5)
instance_names = st.one_of(st.sampled_from(["web", "mqtt", "a", "bad name!", ""]),
                           st.text(max_size=5))
documents = st.fixed_dictionaries(
    {},
    optional={
        "schema": st.one_of(st.just(2), st.just(1), values),
        "format": st.one_of(st.just("moorings.config"), values),
        "service": st.one_of(properties, values),
        "instances": st.one_of(st.dictionaries(instance_names, st.one_of(properties, values),
                                               max_size=3), values),
        "junk": values,
    },
)


def _raw_hostility(text: str, choice: int) -> str:
    """Things json.dumps never writes: a duplicate key, a huge number, deep nesting."""
    if not text.startswith("{") or choice == 0:
        return text
    inner = text[1:]
    prefix = {
        1: '"schema": 2, "schema": 2',
        2: '"junk": ' + "9" * 5000,
        3: '"junk": ' + "[" * 3000 + "]" * 3000,
        4: '"instances": {"web": {"x": 1, "x": 2}}',
    }[choice]
    return "{" + prefix + ("" if inner == "}" else ", ") + inner


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents, choice=st.integers(min_value=0, max_value=4))
def test_check_and_import_give_the_same_verdict(doc: dict[str, object], choice: int) -> None:
    text = _raw_hostility(json.dumps(doc, allow_nan=True), choice)
    with tempfile.TemporaryDirectory() as folder:
        (check_code, check_err), (import_code, import_err) = check_and_import(Path(folder), text)
        assert check_code in (EXIT_OK, EXIT_INVALID), check_err
        assert import_code == check_code, (check_err, import_err)
        if check_code == EXIT_INVALID:
            assert check_err == import_err
            assert not (Path(folder) / "cfg").exists()
        else:
            # What was imported reads back without a repair or a warning.
            code, out, err = run(Path(folder) / "cfg", "config", "export")
            assert code == EXIT_OK
            assert "warning: " not in err
            assert isinstance(json.loads(out)["instances"], dict)

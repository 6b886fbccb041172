"""Kura's signature and enforcement fields import unchanged, validate, and export back."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config.kura import ExportFormat, export_configuration, read_configuration
from app.config.model import validate
from app.config.repository import ConfigRepository
from app.config.store import ConfigStore
from app.errors import SyntaxProblem
from app.fields.digests import parse_allowlist, parse_digest
from app.metatype import INSTANCE_FACTORY_PID, SERVICE_PID, load_catalog

CATALOG = load_catalog()
DATA = Path(__file__).resolve().parent / "data" / "kura"
D1, D2, D3 = ("sha256:" + c * 64 for c in "abc")


def test_kura_file_with_anchor_digest_and_allowlist_imports_unchanged(tmp_path: Path) -> None:
    doc = read_configuration((DATA / "signed-enforced.xml").read_bytes(), CATALOG)
    assert doc.errors == []
    assert not [w for w in doc.warnings if "not a field Moorings knows" in w]
    factory, props = doc.instances["signed-app"]
    assert factory == INSTANCE_FACTORY_PID
    assert str(props["container.signature.trust.anchor"]).startswith("-----BEGIN PUBLIC KEY")
    assert props["container.signature.verify.transparency.log"] is False
    assert props["container.signature.enforcement.digest"] == D1
    assert doc.service is not None
    assert doc.service["enforcement.enabled"] is True
    # The text is kept as Kura wrote it; parsing it gives the three digests.
    assert parse_allowlist(str(doc.service["enforcement.allowlist"])) == {D1, D2, D3}
    repo = ConfigRepository(ConfigStore(tmp_path), CATALOG)
    repo.import_document(doc)
    assert repo.instance("signed-app").values["container.signature.enforcement.digest"] == D1
    instances = {i.name: (i.factory, dict(i.values)) for i in repo.instances()}
    out = export_configuration(ExportFormat.KURA_XML, repo.service_values(), instances, CATALOG)
    again = read_configuration(out, CATALOG)
    exported = again.instances["signed-app"][1]
    for key in ("container.signature.trust.anchor", "container.signature.enforcement.digest",
                "container.signature.verify.transparency.log"):
        assert exported[key] == props[key]
    assert again.service is not None
    assert again.service["enforcement.allowlist"] == doc.service["enforcement.allowlist"]


def test_allowlist_takes_lines_commas_and_spaces() -> None:
    assert parse_allowlist(f"{D1}\r\n{D2}\n\n") == {D1, D2}
    assert parse_allowlist(f"{D1}, {D2},{D3}") == {D1, D2, D3}
    assert parse_allowlist(f"  {D1.upper().replace('SHA256', 'sha256')}  ") == {D1}
    assert parse_allowlist("") == frozenset()


@pytest.mark.parametrize(("entry", "words"), [
    ("sha256:abc", "is not an image digest"),
    (f"nginx@{'sha256:' + 'a' * 64}", "write only the part after @"),
    ("md5:" + "a" * 32, "expected sha256: followed by 64 hexadecimal digits"),
])
def test_allowlist_refuses_an_entry_that_is_not_a_digest(entry: str, words: str) -> None:
    with pytest.raises(SyntaxProblem) as caught:
        parse_allowlist(f"{D1}\n{entry}")
    assert words in caught.value.message
    result = validate(CATALOG.by_pid(SERVICE_PID), {"enforcement.allowlist": entry})
    assert [e.field_id for e in result.errors] == ["enforcement.allowlist"]


def test_enforcement_digest_field_takes_one_digest_or_nothing() -> None:
    assert parse_digest("") == ""
    assert parse_digest(f" {D2} ") == D2
    with pytest.raises(SyntaxProblem, match="is not an image digest"):
        parse_digest("latest")
    result = validate(CATALOG.by_pid(INSTANCE_FACTORY_PID),
                      {"container.signature.enforcement.digest": "sha256:12"}, "app")
    assert [e.field_id for e in result.errors] == ["container.signature.enforcement.digest"]


def test_defaults_are_kuras() -> None:
    inst = CATALOG.by_pid(INSTANCE_FACTORY_PID)
    assert inst.field("container.signature.verify.transparency.log").default == "true"
    assert inst.field("container.signature.trust.anchor").default == ""
    assert inst.field("container.signature.enforcement.digest").default == ""
    svc = CATALOG.by_pid(SERVICE_PID)
    assert svc.field("enforcement.enabled").default == "false"
    assert svc.field("enforcement.allowlist").default == ""

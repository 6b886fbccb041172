"""`moorings config check/import/export` with Kura's files: one verdict for check and import,
`--format kura-xml|kura-json`, passwords only on request, and exact round trips."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from test_config_cli import KURA_STYLE

from app.cli import EXIT_INVALID, EXIT_OK, main

DATA = Path(__file__).resolve().parent / "data" / "kura"
FIXTURES = sorted(p.name for p in DATA.iterdir() if p.suffix in (".xml", ".json"))


def run(cfg: Path, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--config-dir", str(cfg), *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def verdict(err: str) -> list[str]:
    """The lines of check's or import's report that are the same for both."""
    return [line for line in err.splitlines()
            if line.startswith(("warning:", "error:")) or "error" in line]


@pytest.mark.parametrize("fixture", FIXTURES)
def test_check_and_import_give_one_verdict_for_every_kura_file(tmp_path: Path,
                                                              fixture: str) -> None:
    path = DATA / fixture
    cfg = tmp_path / "cfg"
    checked = run(cfg, "config", "check", str(path))
    assert not (cfg / "moorings.json").exists()
    imported = run(cfg, "config", "import", str(path))
    assert checked[0] == imported[0], (checked, imported)
    assert verdict(checked[2]) == verdict(imported[2])
    assert "Traceback" not in checked[2]
    if checked[0] == EXIT_OK:
        assert (cfg / "moorings.json").exists()
    else:
        assert checked[0] == EXIT_INVALID
        assert not (cfg / "moorings.json").exists()


def test_import_reports_what_it_did(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    code, _, err = run(cfg, "config", "import", str(DATA / "snapshot-webui.xml"))
    assert code == EXIT_OK, err
    assert "Created: mqtt-broker, web-nginx." in err
    assert "Skipped 4 components that are not containers: " in err
    assert "imported 2 instances and the service settings from Kura XML into" in err
    code, _, err = run(cfg, "config", "check", str(DATA / "snapshot-webui.xml"))
    assert "Already as in the file: mqtt-broker, web-nginx." in err
    assert "checked 2 instances and the service settings from Kura XML" in err


def test_an_invalid_kura_file_writes_nothing(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    assert run(cfg, "config", "import", str(DATA / "seed-handwritten.xml"))[0] == EXIT_OK
    before = {p.name: p.read_bytes() for p in cfg.iterdir() if p.is_file()}
    code, _, err = run(cfg, "config", "import", str(DATA / "unknown-type.xml"))
    assert code == EXIT_INVALID
    assert "1 error; nothing was written." in err
    after = {p.name: p.read_bytes() for p in cfg.iterdir() if p.is_file()}
    assert after == before


@pytest.mark.parametrize("fmt", ["kura-xml", "kura-json"])
def test_moorings_to_kura_to_moorings_is_exact(tmp_path: Path, fmt: str) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    source = tmp_path / "in.json"
    source.write_text(json.dumps(KURA_STYLE), encoding="utf-8")
    assert run(a, "config", "import", str(source))[0] == EXIT_OK
    first = run(a, "config", "export", "--include-secrets")[1]
    code, kura, err = run(a, "config", "export", "--format", fmt, "--include-secrets")
    assert code == EXIT_OK, err
    assert "s3cret-pa55" not in kura or fmt == "kura-json"
    exported = tmp_path / f"export.{fmt}"
    exported.write_text(kura, encoding="utf-8")
    code, _, err = run(b, "config", "import", str(exported))
    assert code == EXIT_OK, err
    assert run(b, "config", "export", "--include-secrets")[1] == first
    # Without passwords: the import keeps the stored ones, and the rest is the same.
    plain = run(a, "config", "export", "--format", fmt)[1]
    assert "registry.password" not in plain
    exported.write_text(plain, encoding="utf-8")
    assert run(b, "config", "import", str(exported))[0] == EXIT_OK
    assert run(b, "config", "export", "--include-secrets")[1] == first


def test_kura_xml_to_moorings_to_kura_xml_is_stable(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    assert run(cfg, "config", "import", str(DATA / "snapshot-webui.xml"))[0] == EXIT_OK
    first = run(cfg, "config", "export", "--format", "kura-xml", "--include-secrets")[1]
    again = tmp_path / "again.xml"
    again.write_text(first, encoding="utf-8")
    other = tmp_path / "other"
    assert run(other, "config", "import", str(again))[0] == EXIT_OK
    assert run(other, "config", "export", "--format", "kura-xml", "--include-secrets")[1] == \
        first


@pytest.mark.parametrize("fmt", ["kura-xml", "kura-json"])
def test_export_to_a_file_with_secrets_is_owner_only(tmp_path: Path, fmt: str) -> None:
    cfg = tmp_path / "cfg"
    assert run(cfg, "config", "import", str(DATA / "snapshot-webui.xml"))[0] == EXIT_OK
    secret = tmp_path / "with-secrets"
    plain = tmp_path / "plain"
    assert run(cfg, "config", "export", "--format", fmt, "--include-secrets", "-o",
               str(secret))[0] == EXIT_OK
    assert run(cfg, "config", "export", "--format", fmt, "-o", str(plain))[0] == EXIT_OK
    assert secret.stat().st_mode & 0o777 == 0o600
    assert plain.stat().st_mode & 0o777 == 0o644
    assert "registry.password" in secret.read_text()
    assert "registry.password" not in plain.read_text()
    assert "deploy-t0ken" not in plain.read_text()


def test_a_value_xml_cannot_hold_fails_the_export_with_a_sentence(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"instances": {"web": {"container.env": "A=\u0007"}}}))
    assert run(cfg, "config", "import", str(source))[0] == EXIT_OK
    target = tmp_path / "out.xml"
    code, out, err = run(cfg, "config", "export", "--format", "kura-xml", "-o", str(target))
    assert code == EXIT_INVALID
    assert out == ""
    assert "web: container.env holds the character U+0007, which XML cannot carry" in err
    assert not target.exists()

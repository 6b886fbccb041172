"""`moorings config import/export/check`: all-or-nothing import, secrets left out, round trip."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main

KURA_STYLE = {
    "service": {"enabled": "true", "container.engine.host": "unix:///var/run/docker.sock"},
    "instances": {
        "web": {
            "factoryPid": "org.eclipse.kura.container.provider.ContainerInstance",
            "properties": {
                "kura.service.pid": "web",
                "container.enabled": "true",
                "container.image": "nginx",
                "container.image.tag": "1.25",
                "registry.hostname": "127.0.0.1:5000",
                "registry.username": "tech",
                "registry.password": "s3cret-pa55",
                "container.image.download.retries": "3",
                "container.ports.internal": "80:tcp, 53:udp",
                "container.ports.external": "8080, 127.0.0.1:5353",
                "container.env": "A=1, B=x=y, C=one\\, two",
                "container.volume": "/srv/web:/usr/share/nginx/html:ro",
                "container.memory": "512M",
                "container.cpus": "1.5",
                "container.loggerParameters": "max-size=10m, max-file=2",
            },
        },
        "mqtt": {"container.image": "eclipse-mosquitto", "container.image.tag": "2"},
    },
}


def run(cfg: Path, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--config-dir", str(cfg), *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def write(tmp_path: Path, doc: object, name: str = "in.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc), encoding="utf-8")
    return p


def test_import_kura_style_then_export_omits_password(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    code, _, err = run(cfg, "config", "import", str(write(tmp_path, KURA_STYLE)))
    assert code == 0, err
    code, out, _ = run(cfg, "config", "export")
    assert code == 0
    doc = json.loads(out)
    web = doc["instances"]["web"]["properties"]
    assert "registry.password" not in web
    assert "s3cret-pa55" not in out
    assert web["container.enabled"] is True
    assert web["container.image.download.retries"] == 3
    assert web["container.cpus"] == 1.5
    assert web["container.volume"] == "/srv/web:/usr/share/nginx/html:ro"
    assert "kura.service.pid" not in web
    # Missing fields took their Kura defaults.
    assert doc["instances"]["mqtt"]["properties"]["container.ports.internal"] == "80:tcp"
    # The password went to the owner-only secrets file, never to the main file.
    main_file = (cfg / "moorings.json").read_text()
    assert "s3cret-pa55" not in main_file
    assert (cfg / "secrets.json").stat().st_mode & 0o777 == 0o600
    assert "s3cret-pa55" in (cfg / "secrets.json").read_text()


def test_export_import_round_trips_exactly(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(a, "config", "import", str(write(tmp_path, KURA_STYLE)))[0] == 0
    code, first, _ = run(a, "config", "export", "--include-secrets")
    assert code == 0
    assert json.loads(first)["instances"]["web"]["properties"]["registry.password"] == \
        "s3cret-pa55"
    exported = tmp_path / "export.json"
    exported.write_text(first, encoding="utf-8")
    assert run(b, "config", "import", str(exported))[0] == 0
    assert run(b, "config", "export", "--include-secrets")[1] == first
    # Without secrets too, and importing a secret-less export keeps the stored password.
    plain = run(a, "config", "export")[1]
    exported.write_text(plain, encoding="utf-8")
    assert run(a, "config", "import", str(exported))[0] == 0
    assert run(a, "config", "export")[1] == plain
    assert run(a, "config", "export", "--include-secrets")[1] == first


def test_invalid_import_writes_nothing_and_lists_every_error(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    assert run(cfg, "config", "import", str(write(tmp_path, KURA_STYLE)))[0] == 0
    before = {p.name: p.read_bytes() for p in cfg.iterdir()}
    bad = json.loads(json.dumps(KURA_STYLE))
    web = bad["instances"]["web"]["properties"]
    web["container.ports.internal"] = "80-90x"
    web["container.memory"] = "lots"
    bad["instances"]["new-one"] = {"container.image.download.retries": -1}
    bad["instances"]["bad name!"] = {}
    code, out, err = run(cfg, "config", "import", str(write(tmp_path, bad, "bad.json")))
    assert code != 0
    assert out == ""
    assert "web: Internal Ports (container.ports.internal) [80-90x]" in err
    assert "web: Memory (container.memory)" in err
    assert "new-one: Image Download Retries" in err
    assert "expected 0 or more" in err
    assert "bad name!: Name" in err
    assert "4 errors; nothing was written." in err
    after = {p.name: p.read_bytes() for p in cfg.iterdir()}
    assert after == before


def test_check_validates_without_writing(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    code, _, err = run(cfg, "config", "check", str(write(tmp_path, KURA_STYLE)))
    assert code == 0, err
    assert not (cfg / "moorings.json").exists()


@pytest.mark.parametrize(("text", "expected"), [
    ("{not json", "not valid JSON (line 1"),
    ("[]", "must hold a JSON object"),
    ('{"schema": 99}', "newer than this Moorings reads"),
    ('{"instances": {"web": {"factoryPid": "x.y.Z"}}}', "Unknown factory 'x.y.Z'"),
])
def test_broken_documents_are_explained(tmp_path: Path, text: str, expected: str) -> None:
    p = tmp_path / "doc.json"
    p.write_text(text)
    code, _, err = run(tmp_path / "cfg", "config", "import", str(p))
    assert code == 1
    assert expected in err


def test_export_to_file_with_secrets_is_owner_only(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    assert run(cfg, "config", "import", str(write(tmp_path, KURA_STYLE)))[0] == 0
    target = tmp_path / "backup.json"
    assert run(cfg, "config", "export", "--include-secrets", "-o", str(target))[0] == 0
    assert target.stat().st_mode & 0o777 == 0o600
    assert "s3cret-pa55" in target.read_text()


def test_command_line_entry_point_uses_env_config_dir(tmp_path: Path) -> None:
    env = {**os.environ, "MOORINGS_CONFIG_DIR": str(tmp_path / "envcfg")}
    src = write(tmp_path, KURA_STYLE)
    r = subprocess.run([sys.executable, "-m", "app", "config", "import", str(src)], env=env,
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "envcfg" / "moorings.json").exists()
    assert "s3cret-pa55" not in r.stderr + r.stdout

"""The cloud connection's settings on disk: the password in secrets.json, and `config import` /
`config export` of them (how a gateway without a panel is set up)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness import ROOT

from app.config.repository import ConfigRepository
from app.config.store import ConfigStore
from app.metatype import load_catalog
from app.remote.settings import CLOUD_PID


def _repo(folder: Path) -> ConfigRepository:
    return ConfigRepository(ConfigStore(folder), load_catalog())


def _cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "--config-dir", str(folder), *args],
                          capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)


def test_import_export_round_trip_keeps_the_password_out_of_sight(tmp_path: Path) -> None:
    folder = tmp_path / "gw"
    doc = {"components": {CLOUD_PID: {
        "connect.auto-on-startup": True, "broker-url": "mqtts://broker.example:8883",
        "username": "gw-7", "password": "Pw-7-secret", "topic.context.account-name": "acme"}}}
    src = tmp_path / "cloud.json"
    src.write_text(json.dumps(doc), encoding="utf-8")
    r = _cli(folder, "config", "import", str(src))
    assert r.returncode == 0, r.stderr
    values = _repo(folder).component_values(CLOUD_PID)
    assert values["broker-url"] == "mqtts://broker.example:8883"
    assert values["password"] == "Pw-7-secret"
    assert "Pw-7-secret" not in (folder / "moorings.json").read_text()
    assert "Pw-7-secret" in (folder / "secrets.json").read_text()

    r = _cli(folder, "config", "export")
    assert r.returncode == 0, r.stderr
    exported = json.loads(r.stdout)
    assert exported["components"][CLOUD_PID]["username"] == "gw-7"
    assert "password" not in exported["components"][CLOUD_PID]
    assert "Pw-7-secret" not in r.stdout
    # The export imported again: everything as it was, the password kept.
    src.write_text(r.stdout, encoding="utf-8")
    assert _cli(folder, "config", "import", str(src)).returncode == 0
    assert _repo(folder).component_values(CLOUD_PID) == values


def test_invalid_cloud_settings_are_refused_by_component_and_field(tmp_path: Path) -> None:
    folder = tmp_path / "gw"
    src = tmp_path / "bad.json"
    src.write_text(json.dumps({"components": {
        CLOUD_PID: {"connect.auto-on-startup": True, "broker-url": "http://nope"},
        "no.such.Component": {}}}), encoding="utf-8")
    r = _cli(folder, "config", "check", str(src))
    assert r.returncode != 0
    assert f"{CLOUD_PID}: Broker URL (broker-url)" in r.stdout + r.stderr
    assert "Unknown component 'no.such.Component'" in r.stdout + r.stderr
    assert not (folder / "moorings.json").exists()

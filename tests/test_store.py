"""Tests for app.config.store and app.paths: layout, secrets, schema versions, damaged files."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import platformdirs
import pytest

from app.config import store as store_module
from app.config.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    ConfigStore,
    StoredConfig,
    StoredInstance,
)
from app.errors import StoreError
from app.paths import config_dir, ensure_dir

FACTORY = "org.eclipse.kura.container.provider.ContainerInstance"
PASSWORD = "s3cr3t-Hunter2-pw"
SECRET_IDS = frozenset({"registry.password"})
UNREADABLE = re.compile(r"moorings\.json\.unreadable-\d{8}-\d{6}(-\d+)?\.bak")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _sample() -> StoredConfig:
    return StoredConfig(
        service={"enabled": True, "container.engine.host": "unix:///var/run/docker.sock"},
        instances={
            "web": StoredInstance(
                FACTORY,
                {
                    "container.enabled": True,
                    "container.image": "nginx",
                    "container.image.download.retries": 5,
                    "container.cpus": 1.5,
                    "container.env": "A=1, B=ü",
                    "registry.username": "alice",
                    "registry.password": PASSWORD,
                },
            ),
            "db": StoredInstance(FACTORY, {"container.image": "postgres"}),
        },
    )


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), _mode(p)) for p in folder.iterdir()}


def _write_json(path: Path, doc: object, mode: int = 0o644) -> bytes:
    raw = json.dumps(doc, indent=2).encode()
    path.write_bytes(raw)
    os.chmod(path, mode)
    return raw


def test_round_trip(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path)
    store.save(_sample(), SECRET_IDS)
    loaded = store.load()
    assert loaded.warnings == []
    assert loaded.data == _sample()
    value = loaded.data.instances["web"].properties["container.image.download.retries"]
    assert type(value) is int
    assert store.path == tmp_path / "moorings.json"
    assert store.secrets_path == tmp_path / "secrets.json"


def test_missing_files_and_folder_give_empty_config(tmp_path: Path) -> None:
    result = ConfigStore(tmp_path / "not-yet").load()
    assert result.data == StoredConfig()
    assert result.warnings == []


def test_save_creates_owner_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "moorings"
    ConfigStore(folder).save(_sample(), SECRET_IDS)
    assert _mode(folder) == 0o700


def test_secrets_never_in_moorings_json(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path)
    store.save(_sample(), SECRET_IDS)
    assert PASSWORD.encode() not in store.path.read_bytes()
    assert b"registry.password" not in store.path.read_bytes()
    assert PASSWORD.encode() in store.secrets_path.read_bytes()
    assert _mode(store.secrets_path) == 0o600
    assert _mode(store.path) == 0o644
    config = json.loads(store.path.read_bytes())
    secrets = json.loads(store.secrets_path.read_bytes())
    assert config["schema"] == secrets["schema"] == SCHEMA_VERSION
    assert secrets["instances"] == {"web": {"registry.password": PASSWORD}}


def test_empty_secret_is_omitted(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path)
    data = _sample()
    data.instances["web"].properties["registry.password"] = ""
    store.save(data, SECRET_IDS)
    assert json.loads(store.secrets_path.read_bytes())["instances"] == {}
    assert "registry.password" not in store.load().data.instances["web"].properties


def test_widened_secret_permissions_are_repaired(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path)
    store.save(_sample(), SECRET_IDS)
    os.chmod(store.secrets_path, 0o644)
    result = store.load()
    assert _mode(store.secrets_path) == 0o600
    assert result.data == _sample()
    [warning] = result.warnings
    assert str(store.secrets_path) in warning
    assert "0644" in warning
    assert "0600" in warning
    assert store.load().warnings == []


@pytest.mark.parametrize("which", ["moorings.json", "secrets.json"])
def test_newer_schema_is_refused_and_nothing_changes(tmp_path: Path, which: str) -> None:
    store = ConfigStore(tmp_path)
    store.save(_sample(), SECRET_IDS)
    newer = tmp_path / which
    doc = json.loads(newer.read_bytes())
    doc["schema"] = SCHEMA_VERSION + 1
    doc["future"] = {"shape": ["unknown", "to", "us"]}
    _write_json(newer, doc, 0o644)  # even a too-wide secrets.json is left exactly as found
    (tmp_path / ".moorings.json.tmp-left").write_bytes(b"partial")
    before = _snapshot(tmp_path)

    with pytest.raises(StoreError) as caught:
        store.load()
    message = str(caught.value)
    assert str(newer) in message
    assert "newer Moorings" in message
    assert "Nothing was changed" in message
    assert _snapshot(tmp_path) == before

    with pytest.raises(StoreError, match="newer Moorings"):
        store.save(_sample(), SECRET_IDS)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("schema_key", [{"schema": 1}, {}])
def test_schema_1_is_migrated_with_backup(tmp_path: Path, schema_key: dict[str, int]) -> None:
    store = ConfigStore(tmp_path)
    old = {
        **schema_key,
        "service": {"enabled": True},
        "instances": {
            "web": {
                "factory": FACTORY,
                "properties": {"container.image": "nginx", "registry.password": PASSWORD},
            },
            "db": {"factory": FACTORY, "properties": {"registry.password": ""}},
        },
    }
    original = _write_json(store.path, old)

    result = store.load()
    web = result.data.instances["web"].properties
    assert web == {"container.image": "nginx", "registry.password": PASSWORD}
    assert result.data.instances["db"].properties == {}
    backup = tmp_path / "moorings.json.schema1.bak"
    assert backup.read_bytes() == original
    assert _mode(backup) == 0o600
    [warning] = result.warnings
    assert str(backup) in warning
    assert PASSWORD not in warning

    config = json.loads(store.path.read_bytes())
    assert config["schema"] == SCHEMA_VERSION
    assert PASSWORD.encode() not in store.path.read_bytes()
    assert json.loads(store.secrets_path.read_bytes())["instances"] == {
        "web": {"registry.password": PASSWORD}
    }
    assert _mode(store.secrets_path) == 0o600
    again = store.load()
    assert again.warnings == []
    assert again.data == result.data


def test_migration_does_not_clobber_an_earlier_backup(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path)
    earlier = tmp_path / "moorings.json.schema1.bak"
    earlier.write_bytes(b"an earlier backup")
    _write_json(store.path, {"instances": {}})
    [warning] = store.load().warnings
    assert earlier.read_bytes() == b"an earlier backup"
    assert str(tmp_path / "moorings.json.schema1-2.bak") in warning


def test_migrations_form_a_chain_to_the_current_schema() -> None:
    assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION))


def test_corrupt_json_is_moved_aside(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path)
    broken = b'{\n  "schema": 2,\n  "service": {}\n  "instances": {}\n}\n'
    store.path.write_bytes(broken)

    result = store.load()
    assert result.data == StoredConfig()
    [warning] = result.warnings
    [moved] = [p for p in tmp_path.iterdir() if UNREADABLE.fullmatch(p.name)]
    assert str(moved) in warning
    assert "line 4 column 3: Expecting ',' delimiter" in warning
    assert moved.read_bytes() == broken
    assert not store.path.exists()


def test_second_corruption_does_not_clobber_first_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "_timestamp", lambda: "20250101-120000")
    store = ConfigStore(tmp_path)
    store.path.write_bytes(b"first {")
    first = store.load().warnings
    store.path.write_bytes(b"second [")
    second = store.load().warnings

    one = tmp_path / "moorings.json.unreadable-20250101-120000.bak"
    two = tmp_path / "moorings.json.unreadable-20250101-120000-2.bak"
    assert one.read_bytes() == b"first {"
    assert two.read_bytes() == b"second ["
    assert str(one) in first[0]
    assert str(two) in second[0]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[1, 2]", "a list instead of a JSON object"),
        (b'{"schema": 2, "instances": []}', '"instances" is a list instead of an object'),
        (b'{"schema": 2, "service": {"a": null}}', 'property "a" is null'),
        (b'{"instances": {"w": {"properties": {}}}}', '"factory" is missing'),
        (b'{"schema": "2"}', '"schema" is not a positive whole number'),
        (b'{"schema": 2, "service": {"a": NaN}}', "NaN is not a number JSON allows"),
        (b'{"service": {}, "service": {}}', 'the key "service" appears twice'),
        (b'{"schema": 2, "service": {"a": "\xff"}}', "not UTF-8 text: bad byte at offset 32"),
    ],
)
def test_wrong_shapes_are_moved_aside(tmp_path: Path, raw: bytes, reason: str) -> None:
    store = ConfigStore(tmp_path)
    store.path.write_bytes(raw)
    result = store.load()
    assert result.data == StoredConfig()
    [warning] = result.warnings
    assert reason in warning
    [moved] = [p for p in tmp_path.iterdir() if UNREADABLE.fullmatch(p.name)]
    assert moved.read_bytes() == raw
    assert str(moved) in warning


def test_corrupt_secrets_moved_aside_owner_only_without_leaking(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path)
    store.save(_sample(), SECRET_IDS)
    bad = json.dumps({"schema": 2, "instances": {"web": {"registry.password": [PASSWORD]}}})
    store.secrets_path.write_bytes(bad.encode())
    os.chmod(store.secrets_path, 0o644)

    result = store.load()
    assert "registry.password" not in result.data.instances["web"].properties
    [moved] = [p for p in tmp_path.iterdir() if p.name.startswith("secrets.json.unreadable-")]
    assert moved.read_bytes() == bad.encode()
    assert _mode(moved) == 0o600
    assert any(
        str(moved) in w and 'property "registry.password" is a list' in w for w in result.warnings
    )
    assert all(PASSWORD not in w for w in result.warnings)


def test_bad_json_secrets_warning_does_not_quote_the_file(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path)
    store.save(_sample(), SECRET_IDS)
    store.secrets_path.write_bytes(f'{{"instances": {{"web": {{"p": "{PASSWORD}\n'.encode())
    result = store.load()
    assert result.warnings
    assert all(PASSWORD not in w for w in result.warnings)


def test_stale_temps_are_removed_at_load(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path)
    store.save(_sample(), SECRET_IDS)
    for name in (".moorings.json.tmp-1a", ".secrets.json.tmp-2b", ".other.json.tmp-3c"):
        (tmp_path / name).write_bytes(b"partial")
    assert store.load().data == _sample()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".other.json.tmp-3c",
        "moorings.json",
        "secrets.json",
    ]


def test_save_refuses_values_json_cannot_hold(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path)
    data = _sample()
    data.instances["web"].properties["container.cpus"] = float("nan")
    with pytest.raises(StoreError, match=re.escape('"container.cpus"')):
        store.save(data, SECRET_IDS)
    assert list(tmp_path.iterdir()) == []


def test_config_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOORINGS_CONFIG_DIR", str(tmp_path / "from-env"))
    assert config_dir(str(tmp_path / "from-cli")) == tmp_path / "from-cli"
    assert config_dir() == tmp_path / "from-env"
    assert config_dir(None) == tmp_path / "from-env"
    monkeypatch.delenv("MOORINGS_CONFIG_DIR")
    assert config_dir() == Path(platformdirs.user_config_dir("moorings"))
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda app: f"/platform/{app}")
    assert config_dir() == Path("/platform/moorings")
    assert config_dir(str(tmp_path / "from-cli")) == tmp_path / "from-cli"


def test_ensure_dir_is_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "x" / "y"
    assert ensure_dir(folder) == folder
    assert _mode(folder) == 0o700
    assert ensure_dir(folder) == folder
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(StoreError, match="in the way"):
        ensure_dir(tmp_path / "file")

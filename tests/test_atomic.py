"""Tests for app.config.atomic: whole files only, owner-only secrets, no stray temp files."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from app.config.atomic import atomic_write, read_bytes, remove_stale_temps, temp_target_name

ROOT = Path(__file__).resolve().parents[1]
WRITER = Path(__file__).resolve().parent / "helpers" / "atomic_writer.py"
KILLS = 40
MAX_DELAY = 0.05


def _content(tag: bytes, seed: int) -> bytes:
    """About 1 MB whose header carries a digest of the body, so a torn file is detectable."""
    body = random.Random(seed).randbytes(1 << 20)
    return b"MOORINGS-TEST " + tag + b" " + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def _is_whole(data: bytes) -> bool:
    header, _, body = data.partition(b"\n")
    return header.endswith(hashlib.sha256(body).hexdigest().encode())


def _temps(target: Path) -> list[Path]:
    return sorted(p for p in target.parent.iterdir() if temp_target_name(p.name) == target.name)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
@pytest.mark.timeout(60)
def test_sigkill_at_random_moments_leaves_a_whole_file(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    folder = tmp_path / "target"
    sources.mkdir()
    folder.mkdir()
    content_a, content_b = _content(b"A", 1), _content(b"B", 2)
    assert content_a != content_b
    assert _is_whole(content_a)
    assert _is_whole(content_b)
    (sources / "a.bin").write_bytes(content_a)
    (sources / "b.bin").write_bytes(content_b)
    target = folder / "target.bin"
    atomic_write(target, content_a, 0o600)

    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    args = [
        sys.executable,
        str(WRITER),
        str(target),
        str(sources / "a.bin"),
        str(sources / "b.bin"),
    ]
    seen: set[bytes] = set()
    mid_write = 0
    for kill in range(KILLS):
        where = f"seed {seed}, kill {kill}"
        with subprocess.Popen(args, stdout=subprocess.PIPE, env=env) as writer:
            assert writer.stdout is not None
            assert writer.stdout.readline() == b"ready\n", where
            time.sleep(rng.uniform(0, MAX_DELAY))
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        assert writer.returncode == -signal.SIGKILL, f"{where}: the writer died by itself"

        data = target.read_bytes()
        assert data in (content_a, content_b), f"{where}: torn file ({len(data)} bytes)"
        assert _is_whole(data), where
        seen.add(data)
        # Policy: a kill leaves at most the one temp file being written, and nothing else.
        temps = _temps(target)
        assert len(temps) <= 1, f"{where}: {temps}"
        assert set(folder.iterdir()) == {target, *temps}, where
        mid_write += len(temps)
        # What ConfigStore.load does at start-up, before the next writer runs.
        assert remove_stale_temps(target) == temps, where
        assert _temps(target) == [], where

    # Not asserted: on a slow disk every kill may land inside the first write, which is fine.
    print(f"{KILLS} kills, {mid_write} mid-write, {len(seen)} distinct contents (seed {seed})")


def test_secret_is_0600_and_temp_in_same_folder_from_creation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "secrets.json"
    created: list[tuple[Path, int]] = []
    replaced: list[tuple[Path, int]] = []
    real_open, real_replace = os.open, os.replace

    def spy_open(path: Any, flags: int, mode: int = 0o777, *args: Any, **kw: Any) -> int:
        if flags & os.O_CREAT:
            created.append((Path(path), mode))
        return real_open(path, flags, mode, *args, **kw)

    def spy_replace(src: Any, dst: Any, *args: Any, **kw: Any) -> None:
        replaced.append((Path(src), _mode(Path(src))))
        real_replace(src, dst, *args, **kw)

    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "replace", spy_replace)
    with _umask(0):
        atomic_write(target, b'{"pw": "hunter2"}', 0o600)

    assert target.read_bytes() == b'{"pw": "hunter2"}'
    assert _mode(target) == 0o600
    [(temp, create_mode)] = created
    assert create_mode == 0o600  # never briefly readable by others, whatever the umask
    assert temp.parent == tmp_path  # same folder, so os.replace is a same-filesystem rename
    assert temp_target_name(temp.name) == "secrets.json"
    assert replaced == [(temp, 0o600)]
    assert not temp.exists()


def test_overwrite_narrows_and_widens_mode_exactly(tmp_path: Path) -> None:
    target = tmp_path / "file.json"
    target.write_bytes(b"old")
    os.chmod(target, 0o644)
    atomic_write(target, b"secret", 0o600)
    assert _mode(target) == 0o600
    with _umask(0o077):
        atomic_write(target, b"public", 0o644)
    assert _mode(target) == 0o644
    assert target.read_bytes() == b"public"


def test_failed_write_keeps_target_and_removes_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "moorings.json"
    atomic_write(target, b"before")

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, b"after")
    assert target.read_bytes() == b"before"
    assert list(tmp_path.iterdir()) == [target]


def test_read_bytes(tmp_path: Path) -> None:
    assert read_bytes(tmp_path / "missing") is None
    (tmp_path / "here").write_bytes(b"\x00data")
    assert read_bytes(tmp_path / "here") == b"\x00data"


@pytest.mark.parametrize(
    ("name", "target"),
    [
        (".moorings.json.tmp-0a1b2c", "moorings.json"),
        (".secrets.json.tmp-ff", "secrets.json"),
        ("moorings.json", None),
        (".moorings.json", None),
        (".moorings.json.tmp-", None),
        (".tmp-abc", None),
    ],
)
def test_temp_target_name(name: str, target: str | None) -> None:
    assert temp_target_name(name) == target

"""The configuration folder's rule, kept everywhere: both files are regular files in a folder
only its owner can write, as ssh insists for its keys; hostile files get a sentence, never a
traceback, a hang, or a silent change."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from harness import ROOT

from app.config.repository import ConfigRepository
from app.config.store import ConfigStore
from app.errors import StoreError
from app.metatype import load_catalog

PASSWORD = "s3cret-Folder-pw"


def _repo(folder: Path) -> ConfigRepository:
    return ConfigRepository(ConfigStore(folder), load_catalog())


def _seed(folder: Path) -> None:
    _repo(folder).create_instance("web", values={"container.image": "nginx",
                                                 "registry.username": "tech",
                                                 "registry.password": PASSWORD})


def _moorings(folder: Path, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "--config-dir", str(folder), *argv],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False)


def test_symlinked_moorings_json_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    _seed(real)
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "moorings.json").symlink_to(real / "moorings.json")
    (folder / "secrets.json").write_bytes((real / "secrets.json").read_bytes())
    os.chmod(folder / "secrets.json", 0o600)
    target_before = (real / "moorings.json").read_bytes()
    with pytest.raises(StoreError, match="is a symbolic link"):
        _repo(folder)
    doc = tmp_path / "in.json"
    doc.write_text(json.dumps({"instances": {"other": {"container.image": "busybox"}}}))
    child = _moorings(folder, "config", "import", str(doc))
    assert child.returncode == 3
    assert "is a symbolic link" in child.stderr
    assert "Traceback" not in child.stderr
    # Nothing replaced the link with a file, and the target kept its configuration.
    assert (folder / "moorings.json").is_symlink()
    assert (real / "moorings.json").read_bytes() == target_before


def test_dangling_symlink_is_refused_not_read_as_empty(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "moorings.json").symlink_to(tmp_path / "gone.json")
    child = _moorings(folder, "config", "export")
    assert child.returncode == 3
    assert "which does not exist" in child.stderr
    assert child.stdout == ""


def test_symlinked_secrets_json_is_refused_and_never_chmods_the_target(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    _seed(folder)
    victim = tmp_path / "victim"
    victim.write_text("{}")
    os.chmod(victim, 0o644)
    (folder / "secrets.json").unlink()
    (folder / "secrets.json").symlink_to(victim)
    with pytest.raises(StoreError, match=r"secrets\.json is a symbolic link"):
        _repo(folder)
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644


@pytest.mark.timeout(30)
def test_moorings_json_as_a_fifo_is_a_sentence_not_a_hang(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir(mode=0o700)
    os.mkfifo(folder / "moorings.json")
    child = _moorings(folder, "config", "export", timeout=20)
    assert child.returncode == 3
    assert "FIFO" in child.stderr
    assert "Traceback" not in child.stderr


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o1777])
def test_a_folder_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    folder = tmp_path / "cfg"
    _seed(folder)
    os.chmod(folder, mode)
    before = (folder / "moorings.json").read_bytes()
    for argv in (["config", "export"], ["--headless"]):
        child = _moorings(folder, *argv)
        assert child.returncode == 3, child.stderr
        assert "can be written by other users" in child.stderr
        assert f"chmod go-w {folder}" in child.stderr
    assert (folder / "moorings.json").read_bytes() == before


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give the folder to another user")
def test_a_folder_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    _seed(folder)
    os.chown(folder, 65534, 65534)  # nobody
    child = _moorings(folder, "config", "export")
    assert child.returncode == 3
    assert "not to you" in child.stderr


def test_a_stored_number_too_long_to_read_is_moved_aside_not_a_traceback(
        tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir(mode=0o700)
    doc = ('{"schema": 2, "instances": {"web": {"factory": '
           '"org.eclipse.kura.container.provider.ContainerInstance", "properties": '
           '{"container.image.download.retries": ' + "9" * 5000 + "}}}}")
    (folder / "moorings.json").write_text(doc)
    first = _moorings(folder, "config", "export")
    assert first.returncode == 0, first.stderr
    assert "more than 4300 digits" in first.stderr
    assert "moved to" in first.stderr
    assert json.loads(first.stdout)["instances"] == {}
    # The next start is clean: the file was moved aside, not left to fail every time.
    second = _moorings(folder, "config", "export")
    assert second.returncode == 0
    assert second.stderr == ""


def test_a_stored_infinite_number_is_moved_aside(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir(mode=0o700)
    (folder / "moorings.json").write_text(
        '{"schema": 2, "instances": {"web": {"factory": '
        '"org.eclipse.kura.container.provider.ContainerInstance", "properties": '
        '{"container.cpus": 1e999}}}}')
    child = _moorings(folder, "config", "export")
    assert child.returncode == 0, child.stderr
    assert "too large" in child.stderr
    json.loads(child.stdout)  # valid JSON: no Infinity written out


def test_headless_in_a_folder_it_may_not_write_says_so(tmp_path: Path) -> None:
    if os.getuid() == 0:
        # Root may write anywhere; a read-only mount is what refuses it.
        folder = tmp_path / "ro"
        folder.mkdir(mode=0o700)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,mode=0700", "tmpfs",
                                  str(folder)], capture_output=True, text=True, check=False)
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a read-only tmpfs: {mounted.stderr.strip()}")
    else:
        folder = tmp_path / "ro"
        folder.mkdir(mode=0o500)
    try:
        child = _moorings(folder, "--headless")
        assert child.returncode == 3
        assert "may not write that folder" in child.stderr
        assert "Traceback" not in child.stderr
    finally:
        if os.getuid() == 0:
            subprocess.run(["umount", "-l", str(folder)], check=False)


def test_export_to_a_full_disk_is_a_sentence(tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    folder = tmp_path / "cfg"
    _seed(folder)
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], check=True)
    try:
        st = os.statvfs(disk)
        (disk / "filler").write_bytes(b"\0" * (st.f_bavail * st.f_frsize))
        child = _moorings(folder, "config", "export", "-o", str(disk / "out.json"))
        assert child.returncode == 3
        assert "No space left on device" in child.stderr
        assert "Traceback" not in child.stderr
        assert not (disk / "out.json").exists()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)

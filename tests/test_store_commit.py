"""The two configuration files are one commit, and writers in different processes never lose
each other's change: SIGKILL at every fsync and rename, a full disk, concurrent imports, a
long-lived repository beside the command line."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import ROOT

from app.config.repository import ConfigRepository
from app.config.store import ConfigStore
from app.metatype import load_catalog

PASSWORD_ID = "registry.password"
OLD_PASSWORD, NEW_PASSWORD = "old-Pa55-word", "new-Pa55-word"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _repo(folder: Path) -> ConfigRepository:
    return ConfigRepository(ConfigStore(folder), load_catalog())


def _seed(folder: Path) -> None:
    """The old configuration: instance web (image old, the old password) and db."""
    repo = _repo(folder)
    repo.create_instance("web", values={"container.image": "old", "registry.username": "tech",
                                        PASSWORD_ID: OLD_PASSWORD})
    repo.create_instance("db", values={"container.image": "postgres"})


def _new_document(tmp_path: Path, env_size: int = 0) -> Path:
    doc = {"instances": {
        "web": {"container.image": "new", "registry.username": "tech", PASSWORD_ID: NEW_PASSWORD,
                "container.env": "PAD=" + "x" * env_size if env_size else ""},
        "added": {"container.image": "busybox"},
    }}
    path = tmp_path / "new.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _state(folder: Path) -> str:
    """"old" or "new" when the two files agree; anything else names the mix found."""
    repo = _repo(folder)
    web = repo.instance("web").values
    image, password = web["container.image"], web[PASSWORD_ID]
    added = repo.has_instance("added")
    if (image, password, added) == ("old", OLD_PASSWORD, False):
        return "old"
    if (image, password, added) == ("new", NEW_PASSWORD, True):
        return "new"
    return f"mixed: image {image}, {'new' if password == NEW_PASSWORD else 'old'} password, " \
           f"added instance {'present' if added else 'absent'}"


# Runs `moorings config import` in a child that SIGKILLs itself at the n-th call of one os
# function (just before an fsync; just after a rename has taken effect).
KILLER = textwrap.dedent("""
    import os, signal, sys
    point, n = sys.argv[1], int(sys.argv[2])
    real = getattr(os, point)
    calls = 0
    def hooked(*args, **kwargs):
        global calls
        calls += 1
        if point == "fsync" and calls == n:
            os.kill(os.getpid(), signal.SIGKILL)
        result = real(*args, **kwargs)
        if point == "replace" and calls == n:
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    setattr(os, point, hooked)
    from app.cli import main
    sys.exit(main(sys.argv[3:]))
""")


@pytest.mark.parametrize("point", ["fsync", "replace"])
def test_sigkill_at_every_fsync_and_rename_leaves_both_files_old_or_both_new(
        tmp_path: Path, point: str) -> None:
    pristine = tmp_path / "pristine"
    _seed(pristine)
    document = _new_document(tmp_path)
    folder = tmp_path / "cfg"
    kills: dict[int, str] = {}
    for n in range(1, 60):
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(pristine, folder)
        child = subprocess.run(
            [sys.executable, "-c", KILLER, point, str(n), "--config-dir", str(folder),
             "config", "import", str(document)],
            capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
        if child.returncode == 0:
            assert _state(folder) == "new"
            break
        assert child.returncode == -signal.SIGKILL, child.stderr
        kills[n] = _state(folder)
    else:
        raise AssertionError("the import never finished")
    assert all(state in ("old", "new") for state in kills.values()), kills
    # The kills fell on both sides of the commit, so both outcomes were really exercised.
    assert "old" in kills.values()
    assert "new" in kills.values()
    # And after any of them, the next start sees no leftover and no warning but the repair.
    assert _repo(folder).load_warnings == []


@contextlib.contextmanager
def _small_disk(path: Path, size: str = "512k") -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                              str(path)], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        if _in_ci():
            pytest.fail(f"CI runs as root and must mount a small tmpfs: {mounted.stderr}")
        pytest.skip(f"needs root to mount a small tmpfs ({mounted.stderr.strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _fill(folder: Path, leave_pages: int) -> None:
    """Fill the file system until only ``leave_pages`` pages are free."""
    st = os.statvfs(folder)
    page = st.f_frsize
    with (folder / "filler").open("wb") as f:
        f.write(b"\0" * max(0, (st.f_bavail - leave_pages) * page))
    assert os.statvfs(folder).f_bavail <= leave_pages


def test_full_disk_import_exits_3_and_changes_nothing(tmp_path: Path) -> None:
    with _small_disk(tmp_path / "disk") as disk:
        folder = disk / "cfg"
        _seed(folder)
        before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        # Room for the small secrets.json, not for a 40 kB moorings.json.
        _fill(disk, leave_pages=3)
        document = _new_document(tmp_path, env_size=40_000)
        child = subprocess.run([sys.executable, "-m", "app", "--config-dir", str(folder),
                                "config", "import", str(document)],
                               capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
        assert child.returncode == 3, child.stderr
        assert "could not be saved" in child.stderr
        assert "No space left on device" in child.stderr
        assert "Traceback" not in child.stderr
        after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        assert after == before
        (disk / "filler").unlink()
        assert _state(folder) == "old"


# Waits for a go file, so that the two imports really run at the same moment.
RACER = textwrap.dedent("""
    import os, sys, time
    go = sys.argv[1]
    from app.cli import main
    while not os.path.exists(go):
        time.sleep(0.001)
    sys.exit(main(sys.argv[2:]))
""")


def test_concurrent_imports_from_two_processes_both_land(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    _seed(folder)
    for round_ in range(15):
        go = tmp_path / f"go-{round_}"
        children = []
        for side in ("a", "b"):
            doc = tmp_path / f"{side}-{round_}.json"
            doc.write_text(json.dumps({"instances": {f"{side}-{round_}": {
                "container.image": "busybox", PASSWORD_ID: f"pw-{side}-{round_}"}}}))
            children.append(subprocess.Popen(
                [sys.executable, "-c", RACER, str(go), "--config-dir", str(folder), "config",
                 "import", str(doc)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, cwd=ROOT))
        go.touch()
        for child in children:
            _, err = child.communicate(timeout=60)
            assert child.returncode == 0, f"round {round_}: {err}"
    repo = _repo(folder)
    for round_ in range(15):
        for side in ("a", "b"):
            name = f"{side}-{round_}"
            assert repo.has_instance(name), f"{name} was lost"
            assert repo.instance(name).values[PASSWORD_ID] == f"pw-{side}-{round_}"
    assert repo.has_instance("web")
    assert repo.has_instance("db")


def test_a_long_lived_repository_keeps_what_the_command_line_imported(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    _seed(folder)
    window = _repo(folder)  # what the window holds for hours
    document = tmp_path / "x.json"
    document.write_text(json.dumps({"instances": {"imported": {"container.image": "x"}}}))
    child = subprocess.run([sys.executable, "-m", "app", "--config-dir", str(folder), "config",
                            "import", str(document)], capture_output=True, text=True,
                           timeout=60, cwd=ROOT, check=False)
    assert child.returncode == 0, child.stderr
    assert "No Moorings is running this configuration" in child.stderr
    # The window's next save is made over what is on disk, not over its old snapshot.
    window.update_instance("db", {"container.image": "mariadb"})
    fresh = _repo(folder)
    assert fresh.has_instance("imported")
    assert fresh.instance("db").values["container.image"] == "mariadb"
    assert window.has_instance("imported")
    assert window.take_changes().names == {"imported"}
    assert window.take_changes().names == frozenset()


def test_refresh_takes_another_process_save_into_the_snapshot(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    _seed(folder)
    window = _repo(folder)
    assert window.refresh() is None  # nothing changed yet
    other = _repo(folder)
    other.delete_instance("db")
    other.update_instance("web", {"container.image": "changed"})
    changes = window.refresh()
    assert changes is not None
    assert changes.names == {"db", "web"}
    assert not window.has_instance("db")
    assert window.instance("web").values["container.image"] == "changed"
    assert window.revision == other.revision


def test_an_interrupted_save_is_repaired_and_said(tmp_path: Path) -> None:
    """What a crash between the two renames leaves: secrets.json holds the new set and the old
    one; moorings.json still names the old one."""
    folder = tmp_path / "cfg"
    _seed(folder)
    store = ConfigStore(folder)
    config = json.loads(store.path.read_bytes())
    secrets = json.loads(store.secrets_path.read_bytes())
    staged = {"schema": secrets["schema"], "generation": "f" * 16,
              "instances": {"web": {PASSWORD_ID: NEW_PASSWORD}},
              "previous": {"generation": config["secrets"],
                           "instances": secrets["instances"]}}
    store.secrets_path.write_bytes(json.dumps(staged).encode())
    repo = _repo(folder)
    assert repo.instance("web").values[PASSWORD_ID] == OLD_PASSWORD
    assert any("interrupted" in w for w in repo.load_warnings)
    # Repaired: the password that never took effect is gone from the disk.
    assert NEW_PASSWORD.encode() not in store.secrets_path.read_bytes()
    assert _repo(folder).load_warnings == []


def test_a_save_that_changes_no_secret_leaves_secrets_json_alone(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    _seed(folder)
    before = os.stat(folder / "secrets.json")
    repo = _repo(folder)
    repo.update_instance("db", {"container.image": "mariadb"})
    after = os.stat(folder / "secrets.json")
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert _repo(folder).instance("web").values[PASSWORD_ID] == OLD_PASSWORD
    # And one that changes a password replaces it, leaving only the new set on disk.
    repo.update_instance("web", {PASSWORD_ID: NEW_PASSWORD})
    raw = (folder / "secrets.json").read_bytes()
    assert NEW_PASSWORD.encode() in raw
    assert OLD_PASSWORD.encode() not in raw
    assert _repo(folder).instance("web").values[PASSWORD_ID] == NEW_PASSWORD


def test_each_instance_is_derived_once_per_change_not_per_read(tmp_path: Path) -> None:
    """What the orchestrator derives (the container spec) is made when a configuration is
    stored, with the validation that stored it, not again at every reconcile pass."""
    folder = tmp_path / "cfg"
    _seed(folder)
    repo = _repo(folder)
    calls: list[tuple[str, bool]] = []

    def derive(inst: object, validated: bool) -> str:
        calls.append((inst.name, validated))  # type: ignore[attr-defined]
        return f"spec of {inst.values['container.image']}"  # type: ignore[attr-defined]
    repo.derive_with(derive)
    assert sorted(calls) == [("db", False), ("web", False)]
    for _ in range(5):
        assert repo.derived("web") == "spec of old"
    calls.clear()
    repo.update_instance("web", {"container.image": "other"})
    assert calls == [("web", True)]  # just validated by the update: not validated again
    assert repo.derived("web") == "spec of other"
    assert repo.derived("db") == "spec of postgres"
    assert repo.derived("nope") is None

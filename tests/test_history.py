"""The per-instance history on disk: it survives a restart, stays bounded, forgets deleted
instances, and a disk that refuses writes never stops orchestration."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from app.orchestrator.history import HISTORY_DIR, History


def test_history_survives_a_restart_in_order(tmp_path: Path) -> None:
    first = History(tmp_path, ["web"])
    first.add("web", "created", "the instance was created")
    first.add("web", "exited", "exited with code 137")
    again = History(tmp_path, ["web"])
    assert [(e.kind, e.message) for e in again.entries("web")] == [
        ("created", "the instance was created"), ("exited", "exited with code 137")]
    assert again.entries("web")[0].time == pytest.approx(first.entries("web")[0].time, abs=0.01)


def test_history_file_stays_bounded(tmp_path: Path) -> None:
    history = History(tmp_path, ["web"], limit=10)
    for i in range(55):
        history.add("web", "event", f"event {i}")
    path = tmp_path / HISTORY_DIR / "web.jsonl"
    assert len(path.read_bytes().splitlines()) <= 20
    again = History(tmp_path, ["web"], limit=10)
    assert [e.message for e in again.entries("web")] == [f"event {i}" for i in range(45, 55)]


def test_deleted_instances_lose_their_history_on_disk(tmp_path: Path) -> None:
    history = History(tmp_path, ["web", "db"])
    history.add("web", "created", "x")
    history.add("db", "created", "y")
    history.forget("web")
    assert not (tmp_path / HISTORY_DIR / "web.jsonl").exists()
    # One deleted while no Moorings ran: dropped at the next start.
    again = History(tmp_path, ["web"])
    assert again.entries("db") == []
    assert not (tmp_path / HISTORY_DIR / "db.jsonl").exists()


def test_damaged_lines_are_skipped(tmp_path: Path) -> None:
    History(tmp_path, ["web"]).add("web", "created", "ok")
    path = tmp_path / HISTORY_DIR / "web.jsonl"
    path.write_bytes(path.read_bytes() + b"{not json\n[1, 2]\n")
    History(tmp_path, ["web"]).add("web", "started", "ok too")
    assert [e.kind for e in History(tmp_path, ["web"]).entries("web")] == ["created", "started"]


def test_a_refusing_disk_keeps_history_in_memory_and_logs_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / HISTORY_DIR
    folder.mkdir()
    if os.getuid() == 0:  # root writes anywhere: a read-only mount is what refuses it
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro", "tmpfs", str(folder)], check=True)
    else:
        os.chmod(folder, 0o500)
    try:
        history = History(tmp_path, ["web"])
        for i in range(5):
            history.add("web", "event", f"{i}")
        assert len(history.entries("web")) == 5
        assert sum("could not be saved" in r.message for r in caplog.records) == 1
    finally:
        if os.getuid() == 0:
            subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_symlinked_history_file_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    (tmp_path / HISTORY_DIR).mkdir()
    (tmp_path / HISTORY_DIR / "web.jsonl").symlink_to(victim)
    history = History(tmp_path, ["web"])
    history.add("web", "created", "x")
    assert victim.read_text() == "keep\n"

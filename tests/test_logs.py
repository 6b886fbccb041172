"""Container logs on the real engine: follow, both streams, close at once, unreadable drivers."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness import TestEnv
from orchestration import running

from app.engine.log_stream import LogLine, _Lines, logs_readable
from app.inventory.logs import open_logs, save_logs
from app.orchestrator.service import Orchestrator

engine = pytest.mark.engine
PREFIX = "moorings-test-inv-logs-"


# ---------------------------------------------------------------- pure

def test_frames_become_lines_with_their_first_timestamp() -> None:
    out = _Lines("stderr")
    assert list(out.feed(b"2024-01-02T03:04:05.000000001Z hel", framed=True)) == []
    # The engine splits a long line into stamped parts: the first stamp is the line's.
    got = list(out.feed(b"2024-01-02T03:04:06Z lo\n", framed=True))
    assert got == [LogLine("2024-01-02T03:04:05.000000001Z", "hello", "stderr")]
    assert got[0].time == pytest.approx(1704164645.000000001)
    assert list(out.feed(b"2024-01-02T03:04:07Z \xff\r\n", framed=True)) == [
        LogLine("2024-01-02T03:04:07Z", "\ufffd", "stderr")]
    assert list(out.feed(b"2024-01-02T03:04:08Z no end", framed=True)) == []
    assert list(out.rest()) == [LogLine("2024-01-02T03:04:08Z", "no end", "stderr")]

    tty = _Lines("stdout")
    assert list(tty.feed(b"2024-01-02T03:04:05Z a\r\n2024-01-02T03:0", framed=False)) == [
        LogLine("2024-01-02T03:04:05Z", "a", "stdout")]
    assert list(tty.feed(b"4:06Z b\r\n", framed=False)) == [
        LogLine("2024-01-02T03:04:06Z", "b", "stdout")]


def test_logs_readable() -> None:
    assert logs_readable("json-file")
    assert logs_readable("local")
    assert not logs_readable("syslog")
    assert not logs_readable("none")


def test_save_logs_writes_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    path.write_text("old content\n", encoding="utf-8")
    save_logs([LogLine("2024-01-02T03:04:05Z", "hello", "stdout"),
               ("2024-01-02T03:04:06Z", "oops ü", "stderr"),
               ("", "no time", "stdout"),
               "already formatted"], path)
    assert path.read_text(encoding="utf-8") == (
        "2024-01-02T03:04:05Z hello\n2024-01-02T03:04:06Z oops ü\nno time\nalready formatted\n")
    assert [p.name for p in tmp_path.iterdir()] == ["web.log"]


# ---------------------------------------------------------------- the real engine

class Reader:
    def __init__(self) -> None:
        self.lines: list[LogLine] = []
        self.ends: list[str] = []
        self.lock = threading.Lock()

    def on_line(self, timestamp: str, text: str, stream: str) -> None:
        with self.lock:
            self.lines.append(LogLine(timestamp, text, stream))

    def on_end(self, sentence: str) -> None:
        with self.lock:
            self.ends.append(sentence)

    def snapshot(self) -> list[LogLine]:
        with self.lock:
            return list(self.lines)

    def wait(self, pred: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return
            time.sleep(0.02)
        raise AssertionError(f"never: {what}; lines {self.snapshot()[-5:]}, ends {self.ends}")


@pytest.fixture
def orch(tmp_path: Path, test_env: TestEnv) -> Iterator[Orchestrator]:
    with running(tmp_path, test_env) as (orchestrator, _rec):
        deadline = time.monotonic() + 30
        while not orchestrator.connection().connected and time.monotonic() < deadline:
            time.sleep(0.02)
        assert orchestrator.connection().connected
        yield orchestrator


def docker(env: TestEnv, *args: str) -> str:
    result = subprocess.run(["docker", *args], env={**os.environ, "DOCKER_HOST": env.docker_host},
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"docker {' '.join(args)} failed: {result.stderr.strip()}"
    return result.stdout.strip()


@engine
@pytest.mark.usefixtures("cleanup")
def test_follow_delivers_lines_as_printed_and_close_ends_at_once(
        orch: Orchestrator, test_env: TestEnv) -> None:
    script = ('i=0; while true; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); sleep 0.2; '
              'done')
    cid = docker(test_env, "run", "-d", "--name", PREFIX + "follow", "--init", test_env.image,
                 "sh", "-c", script)
    reader = Reader()
    stream = open_logs(orch, cid, follow=True, tail=500, on_line=reader.on_line,
                       on_end=reader.on_end)
    try:
        reader.wait(lambda: sum(ln.stream == "stdout" for ln in reader.snapshot()) >= 3,
                    "three stdout lines")
        # New lines keep coming while we follow.
        count = len(reader.snapshot())
        reader.wait(lambda: len(reader.snapshot()) >= count + 4, "more lines as printed")
    finally:
        began = time.monotonic()
        stream.close()
        assert stream.wait(2.0), "the reader thread is still there after close()"
        took = time.monotonic() - began
    assert took < 1.0
    lines = reader.snapshot()
    out = [ln.text for ln in lines if ln.stream == "stdout"]
    err = [ln.text for ln in lines if ln.stream == "stderr"]
    assert out[:3] == ["out 0", "out 1", "out 2"]
    assert err[:3] == ["err 0", "err 1", "err 2"]
    now = time.time()
    for line in lines:
        assert line.time is not None
        assert abs(line.time - now) < 60
    assert [ln.time for ln in lines if ln.stream == "stdout"] == sorted(
        ln.time for ln in lines if ln.stream == "stdout")
    # Nothing after close, and no end callback either: the person closed it.
    time.sleep(0.5)
    assert len(reader.snapshot()) == len(lines)
    assert reader.ends == []


@engine
@pytest.mark.usefixtures("cleanup")
def test_without_follow_reads_what_is_there_and_ends(orch: Orchestrator,
                                                     test_env: TestEnv) -> None:
    cid = docker(test_env, "run", "-d", "--name", PREFIX + "once", "--init", test_env.image,
                 "sh", "-c", "echo one; echo two >&2; printf three")
    # The engine keeps a last line without its line end until the output closes.
    assert docker(test_env, "wait", cid) == "0"
    reader = Reader()
    stream = open_logs(orch, cid, follow=False, on_line=reader.on_line, on_end=reader.on_end)
    reader.wait(lambda: bool(reader.ends), "the end")
    assert stream.wait(2.0)
    assert reader.ends == [""]
    assert sorted((ln.text, ln.stream) for ln in reader.snapshot()) == [
        ("one", "stdout"), ("three", "stdout"), ("two", "stderr")]


@engine
@pytest.mark.usefixtures("cleanup")
def test_tty_container_logs(orch: Orchestrator, test_env: TestEnv) -> None:
    cid = docker(test_env, "run", "-d", "-t", "--name", PREFIX + "tty", "--init",
                 test_env.image, "sh", "-c", "echo first; echo second; sleep 30")
    reader = Reader()
    stream = open_logs(orch, cid, follow=True, on_line=reader.on_line, on_end=reader.on_end)
    try:
        reader.wait(lambda: len(reader.snapshot()) >= 2, "two lines")
    finally:
        stream.close()
    assert [ln.text for ln in reader.snapshot()[:2]] == ["first", "second"]
    assert all(ln.time is not None for ln in reader.snapshot())
    assert stream.wait(2.0)


@engine
@pytest.mark.usefixtures("cleanup")
def test_log_driver_none_gives_a_sentence(orch: Orchestrator, test_env: TestEnv) -> None:
    cid = docker(test_env, "run", "-d", "--name", PREFIX + "none", "--init", "--log-driver",
                 "none", test_env.image, "sh", "-c", "echo hidden; sleep 30")
    reader = Reader()
    stream = open_logs(orch, cid, follow=True, on_line=reader.on_line, on_end=reader.on_end)
    reader.wait(lambda: bool(reader.ends), "the end")
    assert stream.wait(2.0)
    assert reader.snapshot() == []
    assert reader.ends == ["this container's logging is turned off (log driver none), so the "
                           "engine keeps no logs to show; choose another Logger Type to read "
                           "them here"]


@engine
@pytest.mark.usefixtures("cleanup")
def test_driver_the_engine_cannot_read_back(orch: Orchestrator, test_env: TestEnv) -> None:
    # Engines from 20.10 keep a copy of syslog's lines ("dual logging") unless told not to;
    # without that copy, the engine refuses to read them back.
    cid = docker(test_env, "run", "-d", "--name", PREFIX + "syslog", "--init",
                 "--log-driver", "syslog", "--log-opt", "syslog-address=udp://127.0.0.1:9",
                 "--log-opt", "cache-disabled=true", test_env.image, "sh", "-c",
                 "echo away; sleep 30")
    reader = Reader()
    stream = open_logs(orch, cid, follow=True, on_line=reader.on_line, on_end=reader.on_end)
    reader.wait(lambda: bool(reader.ends), "the end")
    assert stream.wait(2.0)
    assert reader.ends == ["this container logs to syslog, which the engine cannot read back; "
                           "read the logs where syslog sends them"]


@engine
@pytest.mark.usefixtures("cleanup")
def test_no_such_container_is_a_sentence(orch: Orchestrator) -> None:
    reader = Reader()
    stream = open_logs(orch, PREFIX + "never-created", follow=True, on_line=reader.on_line,
                       on_end=reader.on_end)
    reader.wait(lambda: bool(reader.ends), "the end")
    assert stream.wait(2.0)
    assert "no container" in reader.ends[0]


@engine
@pytest.mark.usefixtures("cleanup")
def test_follow_ends_when_the_container_stops(orch: Orchestrator, test_env: TestEnv) -> None:
    cid = docker(test_env, "run", "-d", "--name", PREFIX + "stops", "--init", test_env.image,
                 "sh", "-c", "echo bye; sleep 0.5")
    reader = Reader()
    stream = open_logs(orch, cid, follow=True, on_line=reader.on_line, on_end=reader.on_end)
    reader.wait(lambda: bool(reader.ends), "the end when the container stops")
    assert stream.wait(2.0)
    assert reader.ends == [""]
    assert [ln.text for ln in reader.snapshot()] == ["bye"]

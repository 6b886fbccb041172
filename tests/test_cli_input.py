"""The command line: shared options before or after any subcommand, and what FILE may be."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import EXIT_INVALID, EXIT_OK, EXIT_STORE, EXIT_USAGE, build_parser, main

DOC = {"instances": {"web": {"container.image": "nginx", "container.image.tag": "1.25"}}}
ROOT = Path(__file__).resolve().parent.parent


def call(*argv: str, stdin: str | None = None,
         monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8"))))
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(DOC), encoding="utf-8")
    return path


def newer_folder(tmp_path: Path) -> Path:
    """A configuration folder that any command must read and refuse, naming the folder."""
    folder = tmp_path / "newer"
    folder.mkdir()
    (folder / "moorings.json").write_text('{"schema": 99}', encoding="utf-8")
    return folder


# --- --config-dir (and --log-level) before or after the subcommand ---------------------------

IMPORT_PLACEMENTS = {
    "before config": ["--config-dir", "{d}", "config", "import", "{f}"],
    "after config": ["config", "--config-dir", "{d}", "import", "{f}"],
    "after import": ["config", "import", "--config-dir", "{d}", "{f}"],
    "after FILE": ["config", "import", "{f}", "--config-dir", "{d}"],
    "after FILE, with =": ["config", "import", "{f}", "--config-dir={d}"],
}


@pytest.mark.parametrize("placement", IMPORT_PLACEMENTS)
def test_import_takes_config_dir_anywhere(tmp_path: Path, doc: Path, placement: str) -> None:
    folder = tmp_path / "cfg"
    argv = [a.format(d=folder, f=doc) for a in IMPORT_PLACEMENTS[placement]]
    code, _, err = call(*argv)
    assert code == EXIT_OK, err
    assert "web" in json.loads((folder / "moorings.json").read_text())["instances"]


CHECK_PLACEMENTS = {
    "before config": ["--config-dir", "{d}", "config", "check", "{f}"],
    "after config": ["config", "--config-dir", "{d}", "check", "{f}"],
    "after check": ["config", "check", "--config-dir", "{d}", "{f}"],
    "after FILE": ["config", "check", "{f}", "--config-dir", "{d}"],
}


@pytest.mark.parametrize("placement", CHECK_PLACEMENTS)
def test_check_takes_config_dir_anywhere(tmp_path: Path, doc: Path, placement: str) -> None:
    folder = newer_folder(tmp_path)
    argv = [a.format(d=folder, f=doc) for a in CHECK_PLACEMENTS[placement]]
    code, _, err = call(*argv)
    # The folder given was read (and refused, left as it was): the option reached the command.
    assert code == EXIT_STORE, err
    assert str(folder / "moorings.json") in err
    assert (folder / "moorings.json").read_text() == '{"schema": 99}'


EXPORT_PLACEMENTS = {
    "before config": ["--config-dir", "{d}", "config", "export"],
    "after config": ["config", "--config-dir", "{d}", "export"],
    "after export": ["config", "export", "--config-dir", "{d}"],
    "after export options": ["config", "export", "--include-secrets", "--config-dir", "{d}"],
}


@pytest.mark.parametrize("placement", EXPORT_PLACEMENTS)
def test_export_takes_config_dir_anywhere(tmp_path: Path, doc: Path, placement: str) -> None:
    folder = tmp_path / "cfg"
    assert call("--config-dir", str(folder), "config", "import", str(doc))[0] == EXIT_OK
    argv = [a.format(d=folder) for a in EXPORT_PLACEMENTS[placement]]
    code, out, err = call(*argv)
    assert code == EXIT_OK, err
    assert "web" in json.loads(out)["instances"]


@pytest.mark.parametrize("argv", [
    ["--log-level", "DEBUG", "config", "check", "{f}"],
    ["config", "--log-level", "DEBUG", "check", "{f}"],
    ["config", "check", "{f}", "--log-level", "DEBUG"],
])
def test_log_level_anywhere(tmp_path: Path, doc: Path, argv: list[str]) -> None:
    code, _, err = call("--config-dir", str(tmp_path / "cfg"),
                        *[a.format(f=doc) for a in argv])
    assert code == EXIT_OK, err


def test_the_later_config_dir_wins(tmp_path: Path, doc: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    code, _, err = call("--config-dir", str(first), "config", "import", str(doc),
                        "--config-dir", str(second))
    assert code == EXIT_OK, err
    assert (second / "moorings.json").exists()
    assert not first.exists()


def test_headless_still_gets_its_options(tmp_path: Path) -> None:
    seen: list[object] = []

    def fake_headless(args: object) -> int:
        seen.append(args)
        return 0

    out, err = io.StringIO(), io.StringIO()
    code = main(["--config-dir", str(tmp_path), "--headless", "--log-level", "DEBUG"],
                headless=fake_headless, out=out, err=err)
    assert code == 0
    (args,) = seen
    assert isinstance(args, argparse.Namespace)
    assert args.config_dir == str(tmp_path)
    assert args.log_level == "DEBUG"


def test_config_dir_defaults_to_none_without_it() -> None:
    args = build_parser().parse_args(["config", "export"])
    assert args.config_dir is None
    assert args.log_level == "INFO"


@pytest.mark.parametrize("argv", [
    ["--help"], ["config", "--help"], ["config", "import", "--help"],
    ["config", "check", "--help"], ["config", "export", "--help"],
])
def test_help_is_readable(argv: list[str]) -> None:
    r = subprocess.run([sys.executable, "-m", "app", *argv], capture_output=True, text=True,
                       timeout=60, check=False, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert "SUPPRESS" not in text
    listed = [line for line in text.splitlines() if line.strip().startswith("--config-dir DIR")]
    assert len(listed) == 1, text
    assert "folder of the configuration" in text
    assert "--log-level" in text


# --- what FILE may be ---------------------------------------------------------------------


def test_a_folder_as_file_is_a_sentence(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    code, _, err = call("--config-dir", str(tmp_path / "cfg"), "config", "import", str(folder))
    assert code == EXIT_USAGE
    assert err == (f"error: {folder} is a folder, not a file; expected a configuration file, "
                   "or - to read standard input.\n")


def test_a_missing_file_is_a_sentence(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    code, _, err = call("--config-dir", str(tmp_path / "cfg"), "config", "check", str(missing))
    assert code == EXIT_USAGE
    assert err == f"error: {missing} does not exist; expected a configuration file, or - to " \
                  "read standard input.\n"


def test_a_device_as_file_is_refused(tmp_path: Path) -> None:
    code, _, err = call("--config-dir", str(tmp_path / "cfg"), "config", "check", "/dev/null")
    assert code == EXIT_USAGE
    assert err.startswith("error: /dev/null is a device, not a regular file; expected a "
                          "configuration file")


def test_a_fifo_as_file_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    # No one ever writes to the pipe: reading it would wait forever.
    r = subprocess.run([sys.executable, "-m", "app", "--config-dir", str(tmp_path / "cfg"),
                        "config", "import", str(fifo)],
                       capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert r.returncode == EXIT_USAGE
    assert r.stderr.startswith(f"error: {fifo} is a named pipe, not a regular file; expected a "
                               "configuration file, or - to read standard input")
    assert "Traceback" not in r.stderr


def test_not_utf8_is_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"instances": {"caf\xe9": {}}}')
    code, _, err = call("--config-dir", str(tmp_path / "cfg"), "config", "check", str(path))
    assert code == EXIT_USAGE
    assert err == (f"error: {path} is not UTF-8 text (byte 0xe9 at offset 19); expected a "
                   "configuration file in UTF-8.\n")


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(DOC).encode())
    code, _, err = call("--config-dir", str(tmp_path / "cfg"), "config", "check", str(path))
    assert code == EXIT_OK, err


def test_dash_is_standard_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = call("--config-dir", str(tmp_path / "cfg"), "config", "import", "-",
                        stdin=json.dumps(DOC), monkeypatch=monkeypatch)
    assert code == EXIT_OK, err
    assert (tmp_path / "cfg" / "moorings.json").exists()


def test_dash_through_a_real_pipe(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "app", "config", "check", "-", "--config-dir",
                        str(tmp_path / "cfg")], input='{"instances": {"web": [1]}}',
                       capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert r.returncode == EXIT_INVALID
    assert "web: Document" in r.stderr


def test_endless_standard_input_is_refused_once_it_is_too_long(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zeros:
        r = subprocess.run([sys.executable, "-m", "app", "config", "check", "-",
                            "--config-dir", str(tmp_path / "cfg")], stdin=zeros,
                           capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
    assert r.returncode == EXIT_USAGE
    assert r.stderr.startswith("error: standard input holds more than 16 MiB")

"""Run the `moorings` command as a separate process, as a person or a service manager would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from harness import ROOT, TestEnv


def import_config(cfg: Path, env: TestEnv, instances: dict[str, dict[str, object]]) -> None:
    """Store ``instances`` (and the test engine as the service's host) with `config import`."""
    doc = {"service": {"container.engine.host": env.docker_host},
           "instances": {n: {"properties": v} for n, v in instances.items()}}
    src = cfg.parent / f"{cfg.name}-import.json"
    src.write_text(json.dumps(doc), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "app", "--config-dir", str(cfg), "config",
                        "import", str(src)], capture_output=True, text=True, timeout=60,
                       check=False, cwd=ROOT)
    assert r.returncode == 0, r.stderr


class MooringsProcess:
    """``python -m <module> <args>`` with its output in a log file the test can wait on."""

    def __init__(self, cfg: Path, *args: str, module: str = "app",
                 env: dict[str, str] | None = None, log_dir: Path | None = None) -> None:
        self.log = (log_dir or cfg.parent) / f"{cfg.name}-{time.monotonic_ns()}.log"
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args, "--config-dir", str(cfg)],
            stdout=self._out, stderr=subprocess.STDOUT, cwd=ROOT,
            # Its own session, as a service manager starts it: the window raises its session's
            # CPU priority, and that must not be the test run's.
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})

    def text(self) -> str:
        return self.log.read_text()

    def wait_for(self, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{needle!r} never appeared; log:\n{self.text()}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._out.close()

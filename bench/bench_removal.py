"""Disabling N instances whose process ignores SIGTERM (each stop waits the engine's 10 s), and
how long a person's request waits meanwhile, against the same request on an idle orchestrator.

Usage: .venv/bin/python bench/bench_removal.py [--instances 150] [--person-runs 5]
Needs the test engine (``make test-env``). Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from harness import TestEnv, cleanup_test_objects  # noqa: E402
from orchestration import Recorder, instance_values, make_orchestrator  # noqa: E402

from app.engine.gateway import STOP_TIMEOUT_S  # noqa: E402
from app.orchestrator.state import Phase  # noqa: E402

# busybox's sleep as PID 1 ignores SIGTERM: the engine waits its full stop timeout.
STUBBORN = "sleep,3600"


def person_apply_ms(orch_rec: tuple[object, Recorder], env: TestEnv, name: str) -> float:
    """A person creates an instance and waits for it to run (what a tap on Create costs)."""
    orch, rec = orch_rec
    start = time.perf_counter()
    orch.create_instance(name, instance_values(env)).result(600)  # type: ignore[attr-defined]
    rec.wait_phase(name, Phase.RUNNING, timeout=600)
    return (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=150)
    parser.add_argument("--person-runs", type=int, default=5)
    args = parser.parse_args()
    env = TestEnv.from_environ()
    client = docker.DockerClient(base_url=env.docker_host, version="auto")
    names = [f"moorings-test-bench-rm-{i}" for i in range(args.instances)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            orch = make_orchestrator(Path(tmp), env, periodic_interval_s=3600)
            rec = Recorder(orch)
            orch.start()
            try:
                while not orch.connection().connected:
                    time.sleep(0.05)
                idle = [person_apply_ms((orch, rec), env, f"moorings-test-bench-idle-{i}")
                        for i in range(args.person_runs)]
                for name in names:
                    orch.create_instance(name, instance_values(
                        env, **{"container.entrypoint": STUBBORN}))
                for name in names:
                    rec.wait_phase(name, Phase.RUNNING, timeout=900)
                start = time.perf_counter()
                futures = [orch.apply(n, {"container.enabled": False}) for n in names]
                busy = [person_apply_ms((orch, rec), env, f"moorings-test-bench-busy-{i}")
                        for i in range(args.person_runs)]
                for future in futures:
                    future.result(3600)
                for name in names:
                    rec.wait_phase(name, Phase.DISABLED, timeout=3600)
                took = time.perf_counter() - start
            finally:
                orch.stop()
        serial = args.instances * (STOP_TIMEOUT_S + 0.3)
        print(f"disable {args.instances} instances that ignore SIGTERM: {took:.1f} s "
              f"(one after another at the engine's {STOP_TIMEOUT_S} s stop timeout: at least "
              f"{serial:.0f} s; ratio {took / serial:.3f})")
        idle_ms, busy_ms = statistics.median(idle), statistics.median(busy)
        print(f"a person's create -> running, {args.person_runs} runs: median {busy_ms:.0f} ms "
              f"while the batch stops, {idle_ms:.0f} ms on an idle orchestrator "
              f"(ratio {busy_ms / idle_ms:.2f})")
    finally:
        cleanup_test_objects(client)
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

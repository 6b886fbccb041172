"""Apply-to-running and restore-of-30, through Moorings and through the raw SDK, in one run.

Usage: .venv/bin/python bench/bench_orchestrator.py [--runs 20] [--restore 30]
Needs the test engine (``make test-env``). Prints medians and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from harness import TestEnv, cleanup_test_objects  # noqa: E402
from orchestration import SLEEPER, instance_values, make_orchestrator  # noqa: E402

from app.orchestrator.events import Event, StateChanged  # noqa: E402
from app.orchestrator.state import Phase  # noqa: E402


class RunningWaiter:
    """Wakes when named instances reach RUNNING (from the orchestrator's own events)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.running: dict[str, float] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, StateChanged) and event.status.phase is Phase.RUNNING:
            with self.cond:
                self.running.setdefault(event.status.name, time.perf_counter())
                self.cond.notify_all()

    def wait(self, names: set[str], timeout: float = 120) -> float:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not names <= self.running.keys():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"not running: {sorted(names - self.running.keys())}")
                self.cond.wait(left)
            return max(self.running[n] for n in names)


def raw_create_start(api: docker.APIClient, env: TestEnv, name: str) -> None:
    host = api.create_host_config(log_config={"type": "json-file",
                                              "config": {"max-size": "10m"}})
    c = api.create_container(env.image, entrypoint=SLEEPER.split(",", 2), name=name,
                             host_config=host, labels={"moorings.test": "1"})
    api.start(c["Id"])


def median_ms(xs: list[float]) -> float:
    return statistics.median(xs) * 1000


def bench_apply(env: TestEnv, client: docker.DockerClient, runs: int) -> tuple[float, float]:
    api = client.api
    with tempfile.TemporaryDirectory() as tmp:
        orch = make_orchestrator(Path(tmp), env, periodic_interval_s=3600)
        waiter = RunningWaiter()
        orch.add_listener(waiter)
        orch.start()
        try:
            while not orch.connection().connected:
                time.sleep(0.01)
            ours: list[float] = []
            raw: list[float] = []
            for i in range(runs):
                # Interleaved so that both see the same engine state over the run.
                name = f"moorings-test-bench-{i}"
                t0 = time.perf_counter()
                orch.create_instance(name, instance_values(env))
                ours.append(waiter.wait({name}) - t0)
                rname = f"moorings-test-bench-raw-{i}"
                t0 = time.perf_counter()
                raw_create_start(api, env, rname)
                raw.append(time.perf_counter() - t0)
            for i in range(runs):
                orch.delete_instance(f"moorings-test-bench-{i}")
            orch.reconcile().result(120)
        finally:
            orch.stop()
    cleanup_test_objects(client)
    return median_ms(ours), median_ms(raw)


def bench_restore(env: TestEnv, client: docker.DockerClient, count: int,
                  rounds: int) -> tuple[float, float]:
    api = client.api
    ours: list[float] = []
    raw: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        setup = make_orchestrator(folder, env, periodic_interval_s=3600)
        for i in range(count):
            setup.repository.create_instance(f"moorings-test-restore-{i}",
                                             values=instance_values(env))
        names = {f"moorings-test-restore-{i}" for i in range(count)}
        for _ in range(rounds):
            cleanup_test_objects(client)
            # Restore after a restart: a new orchestrator over the stored instances.
            orch = make_orchestrator(folder, env, periodic_interval_s=3600)
            waiter = RunningWaiter()
            orch.add_listener(waiter)
            t0 = time.perf_counter()
            orch.start()
            try:
                ours.append(waiter.wait(names) - t0)
            finally:
                orch.stop()
            cleanup_test_objects(client)
            t0 = time.perf_counter()
            for i in range(count):
                raw_create_start(api, env, f"moorings-test-restore-raw-{i}")
            raw.append(time.perf_counter() - t0)
    cleanup_test_objects(client)
    return median_ms(ours), median_ms(raw)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--restore", type=int, default=30)
    parser.add_argument("--restore-rounds", type=int, default=3)
    args = parser.parse_args()
    env = TestEnv.from_environ()
    client = docker.DockerClient(base_url=env.docker_host, version="auto")
    cleanup_test_objects(client)
    ours, raw = bench_apply(env, client, args.runs)
    print(f"apply -> running, {args.runs} runs: moorings median {ours:.1f} ms, "
          f"raw SDK create+start median {raw:.1f} ms, ratio {ours / raw:.3f} (target <= 1.05)")
    ours, raw = bench_restore(env, client, args.restore, args.restore_rounds)
    print(f"restore of {args.restore} instances, {args.restore_rounds} rounds: moorings median "
          f"{ours:.0f} ms, raw SDK sequential median {raw:.0f} ms, ratio {ours / raw:.3f} "
          "(target <= 0.6)")
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

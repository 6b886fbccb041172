"""Window start time and memory against a minimal PySide6 window, and the event loop's longest
stall while the orchestrator pulls through a slow registry and creates 20 containers.

Usage: .venv/bin/python bench/bench_gui.py [--runs 10]   (needs ``make test-env``)
Prints medians and ratios; asserts nothing. Targets: start within 1.3x of the minimal window,
RSS under 150 MB with 50 instances configured, longest stall under 50 ms.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

CHILD = Path(__file__).resolve().parent / "gui_child.py"


def start_once(mode: str, config_dir: str, env: dict[str, str]) -> tuple[float, int, float]:
    t0 = time.time()
    proc = subprocess.run([sys.executable, str(CHILD), "--mode", mode, "--config-dir",
                           config_dir], capture_output=True, text=True, env=env, timeout=60,
                          check=True, cwd=ROOT,
                          # Each in a session of its own, as an application is launched: the
                          # `moorings` window raises its session's CPU share, not the next one's.
                          start_new_session=True)
    ready = rss = loaded = 0.0
    for line in proc.stdout.splitlines():
        if line.startswith("READY "):
            ready = float(line.split()[1])
        elif line.startswith("LOADED "):
            loaded = float(line.split()[1])
        elif line.startswith("RSS "):
            rss = float(line.split()[1])
    return ready - t0, int(rss), (loaded - t0 if loaded else 0.0)


def configure_50(folder: Path) -> None:
    from harness import TestEnv
    from orchestration import instance_values

    from app.config.repository import ConfigRepository
    from app.config.store import ConfigStore
    from app.metatype import load_catalog

    env = TestEnv.from_environ()
    repo = ConfigRepository(ConfigStore(folder), load_catalog())
    repo.update_service({"container.engine.host": env.docker_host})
    for i in range(50):
        # Disabled: the benchmark measures the window and its model, not 50 engine starts.
        repo.create_instance(f"moorings-test-gui-bench-{i:02d}",
                             values={**instance_values(env), "container.enabled": False})


def installed_env(pycache: Path) -> dict[str, str]:
    """The children's environment: Moorings' modules with their bytecode compiled, as an
    installed package has it (pip compiles a wheel's modules at install), even where this
    shell says PYTHONDONTWRITEBYTECODE; the minimal window gets the same environment."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "PYTHONPYCACHEPREFIX": str(pycache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "app", "ui"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    return env


def bench_start(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as pycache:
        env = installed_env(Path(pycache))
        configure_50(Path(tmp))
        minimal: list[float] = []
        ours: list[float] = []
        ours_loaded: list[float] = []
        rss_min: list[int] = []
        rss_ours: list[int] = []
        start_once("minimal", tmp, env)  # warm the file cache for both
        start_once("moorings", tmp, env)
        for _ in range(runs):
            t, r, _ = start_once("minimal", tmp, env)
            minimal.append(t)
            rss_min.append(r)
            t, r, loaded = start_once("moorings", tmp, env)
            ours.append(t)
            rss_ours.append(r)
            ours_loaded.append(loaded)
    m, o = statistics.median(minimal), statistics.median(ours)
    print(f"start to interactive window ({env['QT_QPA_PLATFORM']}), {runs} runs: minimal "
          f"PySide6 median {m * 1000:.0f} ms, moorings (50 instances) median {o * 1000:.0f} ms, "
          f"ratio {o / m:.2f} (target <= 1.3); the 50 instances are on screen at median "
          f"{statistics.median(ours_loaded) * 1000:.0f} ms")
    rss_m = statistics.median(rss_min) / 1024
    print(f"resident memory 1.5 s after start: minimal median {rss_m:.0f}"
          f" MB, moorings median {statistics.median(rss_ours) / 1024:.0f} MB (target < 150 MB)")


def bench_stall() -> None:
    from harness import TestEnv, cleanup_test_objects, docker_client
    from orchestration import instance_values, make_orchestrator, registry_values
    from PySide6.QtWidgets import QApplication
    from stall import StallMeter, run_loop_until

    from app.orchestrator.state import Phase
    from ui.application import load_style, warm_gui_modules
    from ui.bridge import CoreBridge
    from ui.main_window import MainWindow
    from ui.priority import raise_window_priority

    # As the `moorings` command does before its threads start.
    print(f"priority: {raise_window_priority()}")
    env = TestEnv.from_environ()
    client = docker_client(env)
    cleanup_test_objects(client)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyleSheet(load_style())
    warm_gui_modules()  # as the core loader does before the core attaches
    # The slow registry runs in its own process, as a real registry would: its work is not
    # the window's.
    registry = subprocess.Popen([sys.executable, str(ROOT / "tests" / "slow_registry.py"),
                                 env.registry, "slow", "--rate", "200000"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert registry.stdout is not None
    assert registry.stdin is not None
    address = f"127.0.0.1:{registry.stdout.readline().split()[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        orch = make_orchestrator(Path(tmp), env)
        bridge = CoreBridge(orch)
        window = MainWindow(bridge)
        window.resize(1280, 800)
        window.show()
        orch.start()
        gc.freeze()  # as ui/application.py does once the core is attached
        # The window's first frame and the engine connection come first, as at any start;
        # what is measured is the loop while the work below runs.
        run_loop_until(lambda: orch.connection().connected, 30)
        run_loop_until(lambda: False, 0.5)
        meter = StallMeter()
        meter.start()
        tag = f"slow-{time.monotonic_ns()}"
        names = [f"moorings-test-stall-{i:02d}" for i in range(20)]
        orch.create_instance("moorings-test-stall-pull", registry_values(
            env, tag=tag, **{"container.image": f"{address}/{env.image_repo}",
                             "registry.hostname": address,
                             "container.image.pull.always": True,
                             "container.image.download.retries": 1,
                             "container.image.download.timeout": 8}))
        for n in names:
            orch.create_instance(n, instance_values(env))

        def finished() -> bool:
            statuses = [orch.status(n) for n in names]
            pull = orch.status("moorings-test-stall-pull")
            return all(s is not None and s.phase is Phase.RUNNING for s in statuses) and \
                pull is not None and pull.phase is not Phase.PULLING
        # The window's own event loop runs meanwhile, as in `moorings`.
        run_loop_until(finished, 120)
        meter.stop()
        for n in [*names, "moorings-test-stall-pull"]:
            orch.delete_instance(n)
        orch.reconcile().result(120)
        orch.stop()
        bridge.detach()
        window.close()
    registry.stdin.close()
    registry.wait(30)
    cleanup_test_objects(client)
    print(f"event loop while pulling through a slow registry and creating 20 containers: "
          f"{meter.summary()} (target: longest < 50 ms)")
    meter.explain()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--no-stall", action="store_true", help="measure the start only")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.runs:
        bench_start(args.runs)
    if not args.no_stall:
        bench_stall()
    sys.stdout.flush()
    os._exit(0)  # skip PySide6's teardown at exit (see scripts/screenshots.py)


if __name__ == "__main__":
    sys.exit(main())

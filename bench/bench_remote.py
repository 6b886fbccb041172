"""Remote management over MQTT, measured on the test broker and engine, side by side in one run.

1. Latency: INVENTORY-V1 ``GET containers`` with ``--containers`` (50) containers on the
   engine, answered by a headless Moorings, against a bare echo device on the same broker (its
   round trip is the broker's and the client's alone); median and p95 of ``--runs`` requests.
   Targets: within 3x of the echo, and under 50 ms.
2. Fleet: ``--fleet`` (50) headless Moorings processes, each with its own folder and client id,
   sharing the test engine: the time until every BIRTH has arrived, a request fanned out to all
   of them until every reply is in, each one's resident memory, and the broker traffic of one
   idle gateway (behind a counting proxy, over ``--idle`` seconds, scaled to an hour; MQTT bytes
   both ways, without TCP/IP headers).

Usage: .venv/bin/python bench/bench_remote.py [--runs 200] [--containers 50] [--fleet 50]
[--idle 70]. Needs ``make test-env`` (engine, registry, broker). Prints figures; asserts nothing.
Hold the engine lock while it runs: it creates moorings-test* containers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from harness import TestEnv, cleanup_test_objects, docker_client  # noqa: E402
from kapua_client import KapuaConsole  # noqa: E402
from mqtt_harness import MqttEnv  # noqa: E402
from remote_helpers import cloud_values, store_cloud  # noqa: E402


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(p * (len(s) - 1)))]


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def headless(folder: Path, log_dir: Path) -> subprocess.Popen[bytes]:
    out = (log_dir / f"{folder.name}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "app", "--headless", "--config-dir",
                             str(folder)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def gateway_folder(base: Path, name: str, env: TestEnv, menv: MqttEnv, cid: str,
                   **over: object) -> Path:
    folder = base / name
    store_cloud(folder, cloud_values(menv, cid, **{"keep-alive": 30,
                                                   "connect.retry-interval": 60, **over}),
                env.docker_host)
    return folder


def wait_births(q: queue.Queue[object], ids: set[str], timeout: float) -> float:
    t0 = time.monotonic()
    left = set(ids)
    while left:
        msg = q.get(timeout=max(0.1, timeout - (time.monotonic() - t0)))
        cid = msg.topic.split("/")[2]  # type: ignore[attr-defined]
        left.discard(cid)
    return time.monotonic() - t0


class CountingProxy:
    """A TCP proxy that counts the bytes it carries each way."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.up = 0
        self.down = 0
        self._lock = threading.Lock()
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(4)
        self.port = int(self._server.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False),
                             daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                with self._lock:
                    if up:
                        self.up += len(data)
                    else:
                        self.down += len(data)
                dst.sendall(data)

    def counts(self) -> tuple[int, int]:
        with self._lock:
            return self.up, self.down


def latency(env: TestEnv, menv: MqttEnv, base: Path, runs: int, containers: int) -> None:
    client = docker_client(env)
    print(f"creating {containers} containers ...", flush=True)
    for i in range(containers):
        client.containers.create(env.image, ["sleep", "3600"], name=f"moorings-test-rb-{i:03d}",
                                 labels={"moorings.test": "1"})
    folder = gateway_folder(base, "latency-gw", env, menv, "moorings-test-bench-gw")
    console = KapuaConsole(menv)
    births = console.watch(f"$EDC/{menv.account}/moorings-test-bench-gw/MQTT/BIRTH")
    gw = headless(folder, base)
    echo = subprocess.Popen([sys.executable, str(ROOT / "bench" / "echo_child.py"),
                             "127.0.0.1", str(menv.plain_port), menv.device_user,
                             menv.device_password, menv.account, "moorings-test-bench-echo"],
                            stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert echo.stdout is not None
        echo.stdout.readline()
        births.get(timeout=60)
        for _ in range(10):  # warm both up
            console.request("moorings-test-bench-gw", "INVENTORY-V1", "GET", "containers")
            console.request_raw("moorings-test-bench-echo", "ECHO", "GET", "containers")
        gw_times: list[float] = []
        echo_times: list[float] = []
        n = 0
        for _ in range(runs):
            t = time.perf_counter()
            reply = console.request("moorings-test-bench-gw", "INVENTORY-V1", "GET",
                                    "containers")
            gw_times.append(time.perf_counter() - t)
            n = len(reply.json()["containers"])
            t = time.perf_counter()
            console.request_raw("moorings-test-bench-echo", "ECHO", "GET", "containers")
            echo_times.append(time.perf_counter() - t)
        gm, gp = statistics.median(gw_times), pct(gw_times, 0.95)
        em, ep = statistics.median(echo_times), pct(echo_times, 0.95)
        print(f"\n1. INVENTORY-V1 GET containers ({n} containers on the engine), {runs} runs")
        print(f"   Moorings headless : median {ms(gm)}, p95 {ms(gp)}")
        print(f"   bare echo device  : median {ms(em)}, p95 {ms(ep)}")
        print(f"   ratio (median)    : {gm / em:.2f}x   (target: within 3x and under 50 ms)")
    finally:
        console.close()
        stop_all([gw])
        echo.terminate()
        echo.wait(10)


def fleet(env: TestEnv, menv: MqttEnv, base: Path, size: int, idle_s: float) -> None:
    ids = [f"moorings-test-fleet-{i:03d}" for i in range(size)]
    proxy = CountingProxy(menv.plain_port)
    folders = [gateway_folder(base, cid, env, menv, cid,
                              **({"broker-url": f"mqtt://127.0.0.1:{proxy.port}"} if i == 0
                                 else {}))
               for i, cid in enumerate(ids)]
    console = KapuaConsole(menv)
    births: queue.Queue[object] = console.watch(f"$EDC/{menv.account}/+/MQTT/BIRTH")
    t0 = time.monotonic()
    procs = [headless(f, base) for f in folders]
    try:
        wait_births(births, set(ids), 300)
        total = time.monotonic() - t0
        print(f"\n2. Fleet of {size} headless gateways on one broker ({os.cpu_count()} CPUs)")
        print(f"   all {size} BIRTHs {total:.1f} s after the {size} processes were started "
              "together")
        results: queue.Queue[float] = queue.Queue()

        def ask(cid: str, start: float) -> None:
            reply = console.request(cid, "INVENTORY-V1", "GET", "containers", timeout=60)
            assert reply.code == 200
            results.put(time.monotonic() - start)

        start = time.monotonic()
        threads = [threading.Thread(target=ask, args=(cid, start)) for cid in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        times = [results.get() for _ in ids]
        print(f"   one request fanned out to all {size}: every reply in "
              f"{max(times) * 1000:.0f} ms (median {statistics.median(times) * 1000:.0f} ms)")
        rss = [rss_kib(p.pid) for p in procs]
        print(f"   resident memory per gateway: median {statistics.median(rss) / 1024:.1f} MiB, "
              f"max {max(rss) / 1024:.1f} MiB")
        up0, down0 = proxy.counts()
        time.sleep(idle_s)
        up1, down1 = proxy.counts()
        scale = 3600 / idle_s
        print(f"   idle traffic of one gateway over {idle_s:.0f} s: {up1 - up0} B up, "
              f"{down1 - down0} B down (MQTT bytes) -> about {(up1 - up0) * scale:.0f} B/h "
              f"up and {(down1 - down0) * scale:.0f} B/h down (keep-alive 30 s)")
    finally:
        console.close()
        stop_all(procs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--containers", type=int, default=50)
    ap.add_argument("--fleet", type=int, default=50)
    ap.add_argument("--idle", type=float, default=70.0)
    args = ap.parse_args()
    env, menv = TestEnv.from_environ(), MqttEnv.from_environ()
    client = docker_client(env)
    with tempfile.TemporaryDirectory(prefix="moorings-bench-remote-") as tmp:
        base = Path(tmp)
        try:
            latency(env, menv, base, args.runs, args.containers)
            fleet(env, menv, base, args.fleet, args.idle)
        finally:
            cleanup_test_objects(client)
            client.close()


if __name__ == "__main__":
    main()

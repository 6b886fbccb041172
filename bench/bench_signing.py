"""Apply-to-running of a signed image against the same apply unsigned, side by side in one run.

Both instances pull from the authenticated test registry at every apply (the unsigned one with
Always pull, the signed one because it verifies and pulls by digest at every fresh start), so the
difference of the medians is what the signature check adds. The check alone (resolve the tag,
find and verify the signature, on loopback) is timed too. Target: under 100 ms on loopback.

Usage: .venv/bin/python bench/bench_signing.py [--runs 15]
Needs the test engine (``make test-env``). Prints medians and ratios; asserts nothing.
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
sys.path.insert(0, str(ROOT / "bench"))

from bench_orchestrator import RunningWaiter  # noqa: E402
from cosign_signing import Signer  # noqa: E402
from harness import TestEnv, cleanup_test_objects  # noqa: E402
from orchestration import make_orchestrator, registry_values  # noqa: E402
from signed_images import Images  # noqa: E402

from app.engine.gateway import Engine  # noqa: E402
from app.engine.hosts import EngineTarget  # noqa: E402
from app.engine.spec import spec_from_values  # noqa: E402
from app.metatype import INSTANCE_FACTORY_PID, load_catalog  # noqa: E402
from app.orchestrator.signed import verify_signed  # noqa: E402


def median_ms(xs: list[float]) -> float:
    return statistics.median(xs) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = TestEnv.from_environ()
    client = docker.DockerClient(base_url=env.docker_host, version="auto")
    cleanup_test_objects(client)
    images = Images(env, client)
    signer = Signer.ecdsa()
    try:
        tag, digest = images.new_tag()
        images.sign_with(signer, digest, tag)
        common = {"container.image": images.repo, "container.image.download.retries": 1}
        signed_values = registry_values(env, tag, **common, **{
            "container.signature.trust.anchor": signer.public_pem(),
            "container.signature.verify.transparency.log": False})
        unsigned_values = registry_values(env, tag, **common,
                                          **{"container.image.pull.always": True})

        # The check alone, as the pull worker runs it.
        catalog = load_catalog()
        spec = spec_from_values(catalog.by_pid(INSTANCE_FACTORY_PID), "moorings-test-bench-v",
                                signed_values)
        engine = Engine.open(EngineTarget(url=env.docker_host))
        check: list[float] = []
        try:
            for _ in range(args.runs):
                t0 = time.perf_counter()
                verify_signed(engine, spec, "")
                check.append(time.perf_counter() - t0)
        finally:
            engine.close()

        signed: list[float] = []
        unsigned: list[float] = []
        with tempfile.TemporaryDirectory() as tmp:
            orch = make_orchestrator(Path(tmp), env, periodic_interval_s=3600)
            waiter = RunningWaiter()
            orch.add_listener(waiter)
            orch.start()
            try:
                while not orch.connection().connected:
                    time.sleep(0.01)
                for i in range(args.runs):
                    # Interleaved, so both see the same engine and registry over the run.
                    for kind, values, out in (("s", signed_values, signed),
                                              ("u", unsigned_values, unsigned)):
                        name = f"moorings-test-bench-{kind}{i}"
                        t0 = time.perf_counter()
                        orch.create_instance(name, values)
                        out.append(waiter.wait({name}) - t0)
                        orch.delete_instance(name).result(120)
            finally:
                orch.stop()
        cleanup_test_objects(client)
        s, u = median_ms(signed), median_ms(unsigned)
        print(f"apply -> running, {args.runs} runs each: signed median {s:.1f} ms, unsigned "
              f"(Always pull) median {u:.1f} ms, ratio {s / u:.2f}, the check adds "
              f"{s - u:.1f} ms")
        if check:  # always: kept flat for the reader
            print(f"the signature check alone (resolve, find, verify; loopback): median "
                  f"{median_ms(check):.1f} ms")
    finally:
        cleanup_test_objects(client)
        images.remove()
        client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Every benchmark script still imports against today's code (`make bench` runs them all, and
nothing else would notice a name that moved until someone measures)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = sorted(BENCH.glob("*.py"))
LIBRARIES = {"stall.py"}  # imported by the scripts, not run


def test_there_are_benchmarks() -> None:
    assert {p.name for p in SCRIPTS} >= {"bench_orchestrator.py", "bench_gui.py",
                                         "bench_inventory.py", "bench_removal.py"}


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_a_benchmark_script_imports(script: Path) -> None:
    spec = importlib.util.spec_from_file_location(f"bench_probe_{script.stem}", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # its __main__ block does not run
    if script.name not in LIBRARIES:
        assert callable(getattr(module, "main", None)), f"{script.name} has no main()"

"""Benchmark: wall time and degrees of freedom of the default case (not a test).

Usage: .venv/bin/python benchmarks/bench_default_case.py [CASE]

Prints the mesh size, DOF count, time to mesh + set up, time of the bias loop and total wall
time. The first run in a fresh environment also pays FFCx's form compilation (cached afterwards);
the script runs the case twice and reports both, so the cold and warm figures are visible.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from ecx_device.case import load_case
from ecx_device.runs.simulation import Simulation

ROOT = Path(__file__).parents[1]


def main() -> None:
    case = load_case(sys.argv[1] if len(sys.argv) > 1 else ROOT / "cases" / "zhang2017_1V.yaml")
    for label in ("first run (may include form compilation)", "second run (forms cached)"):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            sim = Simulation(case, Path(tmp) / "run", log=None)
            result = sim.run()
            wall = time.perf_counter() - t0
        f = result.final
        print(f"{case.name} [{label}]: {result.dofs} DOFs, {len(result.rows)} bias points, "
              f"wall time {wall:.2f} s ({wall / max(result.dofs, 1) * 1e6:.1f} us/DOF); "
              f"I = {f['current [A]']:.4g} A, T_max = {f['wire_T_max [K]']:.2f} K")


if __name__ == "__main__":
    main()

"""Benchmark: CPU time of the full I-V sweeps of Zhang et al.'s stages on the shipped meshes (not
a test).

Usage: .venv/bin/python benchmarks/bench_stage_sweeps.py [STAGE ...]   (default: a; any of a b c d)

Runs ``cases/zhang2017_stage_<X>_dd.yaml``'s ``iv`` section (-1..+1 V in 0.1 V steps, 21 biases,
self-heated drift-diffusion wire, fitted carrier fluxes) as ``ecx-device iv`` does, after an
untimed smoke run of the same case that compiles the forms (FFCx caches them). Prints per stage
the CPU time of the process (user + system), the wall time, the Newton iterations and rejected
bias steps of the sweep, the current at +1 V, and the load average before and after: the CPU time
is the figure of issue 14's goal for stage (a) (<= 30 s), and it grows when other jobs share the
cores. Serial, one BLAS/OpenMP thread.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from ecx_device.case import load_case  # noqa: E402
from ecx_device.runs.simulation import Simulation  # noqa: E402

ROOT = Path(__file__).parents[1]

#: Issue 14's goal for the stage (a) sweep (CPU s).
GOAL_STAGE_A_CPU = 30.0


def sweep(stage: str) -> dict[str, float]:
    """One full sweep of a stage: CPU and wall time (s), Newton iterations, rejected steps,
    current at the last bias (A)."""
    case = load_case(ROOT / "cases" / f"zhang2017_stage_{stage}_dd.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        Simulation(case, Path(tmp) / "warm", smoke=True, log=None).run_iv()
        load = os.getloadavg()[0]
        cpu, wall = time.process_time(), time.perf_counter()
        rows = Simulation(case, Path(tmp) / "run", log=None).run_iv().rows
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"cpu": cpu, "wall": wall, "load_before": load, "load_after": os.getloadavg()[0],
            "newton": sum(r["newton_iterations [-]"] for r in rows),
            "rejected": sum(r["rejected_steps [-]"] for r in rows),
            "current": rows[-1]["cathode_current [A]"], "biases": len(rows)}


def main() -> None:
    stages = sys.argv[1:] or ["a"]
    bad = [s for s in stages if s not in "abcd" or len(s) != 1]
    if bad:
        sys.exit(f"bench_stage_sweeps.py: unknown stage(s) {bad}; expected any of a b c d")
    print(f"{'stage':>5} {'biases':>6} {'CPU [s]':>8} {'wall [s]':>8} {'Newton':>6} "
          f"{'rejected':>8} {'I(+1 V) [A]':>12} {'load before/after':>18}")
    for s in stages:
        r = sweep(s)
        print(f"{s:>5} {r['biases']:>6} {r['cpu']:>8.1f} {r['wall']:>8.1f} {r['newton']:>6.0f} "
              f"{r['rejected']:>8.0f} {r['current']:>12.4e} "
              f"{r['load_before']:>8.2f} / {r['load_after']:<8.2f}", flush=True)
        if s == "a":
            verdict = "met" if r["cpu"] <= GOAL_STAGE_A_CPU else "not met"
            print(f"      issue 14 goal, stage (a) sweep <= {GOAL_STAGE_A_CPU:.0f} s CPU: "
                  f"{verdict} (ratio {r['cpu'] / GOAL_STAGE_A_CPU:.2f})")


if __name__ == "__main__":
    main()

"""Benchmark: where the time of a 3D exchange run goes, counted (not a test).

Usage: .venv/bin/python benchmarks/count_3d_costs.py [CASE] [--scale S] [--hold SECONDS]

Runs CASE (default ``cases/zhang2017_1V_side_contact.yaml``, the experiment's geometry) with every
mesh size times S (default 2: 10 / 5 nm wire / contact cells) and the hold shortened to SECONDS
(default 0.15), in one process, and prints per Newton problem the CPU time, the solves and the
Newton iterations, then PETSc's event counts and times for the factorisations, the sub-matrix
extractions of the reduced-space (bounded) Newton, the Jacobians and the residuals
(docs/validation.md, "Where the 3D time goes").
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from ecx_device.fem import PETSc  # noqa: E402

PETSc.Log.begin()

import ecx_device.solvers.newton as newton  # noqa: E402
from ecx_device.case import load_case  # noqa: E402
from ecx_device.runs.simulation import Simulation  # noqa: E402

ROOT = Path(__file__).parents[1]
EVENTS = ("MatLUFactorSym", "MatLUFactorNum", "MatCreateSubMats", "SNESJacobianEval",
          "SNESFunctionEval", "SNESSolve")


def _timed_solves() -> dict:
    """Wrap CoupledProblem._solve_once to add up CPU time, solves and iterations per problem."""
    totals: dict = defaultdict(lambda: [0.0, 0, 0])
    solve_once = newton.CoupledProblem._solve_once

    def timed(self, *args, **kwargs):
        bounded = self.problem.solver.getType().startswith("vi")
        key = ",".join(self.names) + (" (bounded)" if bounded else "")
        start = time.process_time()
        result = solve_once(self, *args, **kwargs)
        t = totals[key]
        t[0] += time.process_time() - start
        t[1] += 1
        t[2] += result.iterations
        return result

    newton.CoupledProblem._solve_once = timed
    return totals


def _case(path: Path, scale: float, hold: float):
    """The case with its mesh sizes times ``scale`` and its last (hold) segment ``hold`` s long."""
    case = load_case(path)
    m = case.geometry.mesh
    last = len(case.bias.protocol.root) - 1
    return case.replace({
        **{f"geometry.mesh.{k}": f"{getattr(m, k) * scale:g} m"
           for k in ("wire_size", "contact_size", "metal_size")},
        f"bias.protocol.{last}.duration": f"{hold:g} s",
        "exchange.snapshot_times": [f"{hold:g} s"]})


def main() -> None:
    parser = argparse.ArgumentParser(description="Where the time of a 3D exchange run goes.")
    parser.add_argument("case", nargs="?", type=Path,
                        default=ROOT / "cases" / "zhang2017_1V_side_contact.yaml")
    parser.add_argument("--scale", type=float, default=2.0, help="factor on every mesh size")
    parser.add_argument("--hold", type=float, default=0.15, help="hold duration (s)")
    args = parser.parse_args()
    path, scale, hold = args.case, args.scale, args.hold
    case = _case(path, scale, hold)
    totals = _timed_solves()
    with tempfile.TemporaryDirectory() as tmp:
        wall = time.perf_counter()
        Simulation(case, Path(tmp) / "run", log=None).run()
        wall = time.perf_counter() - wall
    print(f"{path.name}, mesh sizes x{scale}, hold {hold} s: {wall:.1f} s wall")
    print(f"{'problem':<45} {'CPU [s]':>8} {'solves':>7} {'Newton':>7} {'s/iteration':>12}")
    for key, (cpu, solves, its) in sorted(totals.items(), key=lambda kv: -kv[1][0]):
        print(f"{key:<45} {cpu:>8.2f} {solves:>7d} {its:>7d} {cpu / max(its, 1):>12.3f}")
    print(f"{'PETSc event':<20} {'count':>6} {'time [s]':>9}")
    for name in EVENTS:
        info = PETSc.Log.Event(name).getPerfInfo()
        print(f"{name:<20} {info['count']:>6d} {info['time']:>9.2f}")


if __name__ == "__main__":
    main()

"""Time-step convergence of an exchange run: the Li anode at 5 V, 500 K, 1D (a stress-matrix
cell with a 0.24 s hold), run at three values of ``exchange.time_error_tolerance``.

The front starts after an induction time of ~0.2 s, during which Li builds up in the wire; its
start is what the time step shifts. Backward Euler is first order and the controller holds the
local error per step near the tolerance, so the global error should fall as sqrt(tolerance):
by ~3.2x per decade.

    .venv/bin/python benchmarks/bench_time_convergence.py [--out DIR]

Prints, per tolerance: steps, rejected steps, wall time, X and the front position after the
hold, and the times at which X first exceeds 0.005 and 0.05 (the front's start and growth).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from stress_matrix import ROOT, anode_cell, run_cell

TOLERANCES = (1e-3, 1e-4, 1e-5)
THRESHOLDS = (0.005, 0.05)


def first_time_above(rows: list[dict], threshold: float) -> float:
    """First time (s) at which the exchanged fraction exceeds ``threshold``; NaN if never."""
    return next((float(r["time [s]"]) for r in rows
                 if float(r["exchanged_fraction [-]"]) > threshold), float("nan"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_time_convergence")
    args = parser.parse_args(argv)
    print("Li anode, 5 V, 500 K, 1D, 0.24 s hold")
    print(f"{'tolerance':>9} {'steps':>6} {'rejected':>8} {'wall [s]':>9} {'X [-]':>8} "
          f"{'front [nm]':>10} " + " ".join(f"{'t(X>' + f'{x:g}' + ') [s]':>14}"
                                              for x in THRESHOLDS))
    for k, tol in enumerate(TOLERANCES):
        cell = anode_cell("Li", 5.0, 500.0, "1d", "0.24 s")
        cell.data["exchange"]["time_error_tolerance"] = tol
        cell.name = cell.data["name"] = f"time_convergence_{k}"
        r = run_cell(cell, args.out, False, 7200.0)
        with open(args.out / cell.name / "run" / "timeseries.csv") as f:
            rows = list(csv.DictReader(f))
        last = rows[-1]
        print(f"{tol:>9.0e} {r['steps']:>6d} {r['rejected']:>8d} {r['wall [s]']:>9.1f} "
              f"{float(last['exchanged_fraction [-]']):>8.4f} "
              f"{float(last['front_position [nm]'] or 'nan'):>10.1f} "
              + " ".join(f"{first_time_above(rows, x):>14.4f}" for x in THRESHOLDS))
    return 0


if __name__ == "__main__":
    sys.exit(main())

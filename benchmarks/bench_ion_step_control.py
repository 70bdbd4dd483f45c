"""The exchange run's step-length control on a slow thermal case (Casu wurtzite CdSe, 400 degC).

The step length follows an estimate of each step's local error in X (and the ions' charge, where
the electrical model carries it) against ``exchange.time_error_tolerance``
(:mod:`ecx_device.runs.stepsize`, :mod:`ecx_device.solvers.local_error`); a step that took more
than ``easy_iterations`` Newton iterations does not grow. Before, the split ion step ran PETSc's
backtracking line search from the first iteration: it cut Newton steps to lambda ~ 0.1 for ~10
iterations, so the step never grew and froze at ~0.4 s, and the 400 degC case hit a 1200 s
wall-time limit in the stress matrix. Now full Newton steps come first and the backtracking
search is the second try (models.ION_FALLBACK_LINESEARCH). This benchmark
prints steps, wall time and the exchanged fraction X after the hold for several tolerances,
against a reference with a tight tolerance and steps of at most 0.1 s, and the old line search
(backtracking from the first iteration; now it is the second try after full steps fail).

    .venv/bin/python benchmarks/bench_ion_step_control.py [--hold "60 s"] [--out DIR]

Prints one row per variant: steps, rejected steps, wall time, X, and X's relative deviation from
the reference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stress_matrix import ROOT, run_cell, thermal_cell

CASE = "casu2023_wurtzite"
CELSIUS = 400.0

#: name -> (solver.petsc_options, exchange keys)
VARIANTS = {
    "reference (tolerance 1e-4, dt <= 0.1 s)": ({}, {"time_error_tolerance": 1e-4,
                                                     "max_time_step": "0.1 s"}),
    "default (tolerance 1e-3)": ({}, {}),
    "tolerance 1e-2": ({}, {"time_error_tolerance": 1e-2}),
    "tolerance 3e-4": ({}, {"time_error_tolerance": 3e-4}),
    "default, backtracking from the start": ({"snes_linesearch_type": "bt"}, {}),
}


def variant_cell(k: int, hold: str, options: dict, exchange: dict):
    """The stress matrix's thermal cell at 400 degC, held for ``hold`` at 0 V."""
    cell = thermal_cell(CASE, CELSIUS)
    data = cell.data
    data["bias"]["protocol"] = [{"type": "hold", "voltage": "0 V", "duration": hold}]
    data.setdefault("solver", {})["petsc_options"] = options
    data["exchange"].update(exchange)
    cell.name = data["name"] = f"step_control_{k}"
    return cell


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hold", default="60 s", help="simulated hold at 0 V (default 60 s)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_ion_step_control")
    args = parser.parse_args(argv)
    rows = {name: run_cell(variant_cell(k, args.hold, *spec), args.out, False, 7200.0)
            for k, (name, spec) in enumerate(VARIANTS.items())}
    ref = rows[next(iter(VARIANTS))]["exchanged"]
    print(f"{CASE} at {CELSIUS:g} degC, {args.hold} hold")
    print(f"{'variant':<40} {'steps':>6} {'rejected':>8} {'wall [s]':>9} {'X [-]':>10} "
          f"{'dX/X_ref':>9}")
    for name, r in rows.items():
        x = r["exchanged"]
        print(f"{name:<40} {r['steps']:>6d} {r['rejected']:>8d} {r['wall [s]']:>9.1f} "
              f"{x:>10.5f} {x / ref - 1:>+9.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Why the thermal (Casu) cases crawl: the ion step's line search and the step control.

The split ion step (every case without the drift-diffusion wire, e.g. the thermal variant) runs
PETSc's VI Newton with a backtracking line search. On the wurtzite CdSe wire at 400 degC the
search cuts each Newton step to lambda ~ 0.1 for ~10 iterations before the full step converges
quadratically; a step that takes more than ``easy_iterations`` Newton iterations never grows, so
the time step freezes at ~0.4 s. With full Newton steps (``snes_linesearch_type: basic``) it
converges in 2-3 iterations and the step grows, but then nothing but the per-node X change
(``exchange.max_fraction_change``) limits it, and that is no error control: the answer moves by
a few per cent. This benchmark prints both against a reference with small steps. The options go
to ``solver.petsc_options``, which every Newton solve of the case reads; the line search only
changes the ion step here, the ohmic device's Newton already taking full steps.

    .venv/bin/python benchmarks/bench_ion_step_control.py [--hold "60 s"] [--out DIR]

Prints one row per variant: steps, rejected steps, wall time, exchanged fraction X after the
hold, and X's relative deviation from the reference (max_time_step 0.1 s, default search).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stress_matrix import ROOT, run_cell, thermal_cell

CASE = "casu2023_wurtzite"
CELSIUS = 400.0

#: name -> (solver.petsc_options, exchange.max_time_step or None)
VARIANTS = {
    "reference (backtracking, dt <= 0.1 s)": ({}, "0.1 s"),
    "default (backtracking)": ({}, None),
    "full Newton steps": ({"snes_linesearch_type": "basic"}, None),
    "full Newton steps, dt <= 0.5 s": ({"snes_linesearch_type": "basic"}, "0.5 s"),
}


def variant_cell(k: int, hold: str, options: dict, max_step: str | None):
    """The stress matrix's thermal cell at 400 degC, held for ``hold`` at 0 V."""
    cell = thermal_cell(CASE, CELSIUS)
    data = cell.data
    data["bias"]["protocol"] = [{"type": "hold", "voltage": "0 V", "duration": hold}]
    data.setdefault("solver", {})["petsc_options"] = options
    if max_step is not None:
        data["exchange"]["max_time_step"] = max_step
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

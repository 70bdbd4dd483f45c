"""Benchmark: the cost of the two-way electro-thermal coupling of the drift-diffusion wire (not a
test).

Usage: .venv/bin/python benchmarks/bench_self_heating.py [CASE] [--full]

Runs the I-V sweep of a drift-diffusion case (default ``cases/zhang2017_stage_d_dd.yaml``, the
stage that heats: ~14 uA at 1 V) three times, isothermal (``electrical.self_heating: false``) and
self-heated with each electro-thermal coupling (``solver.electrothermal_coupling``: the fixed
point, the monolithic Newton), in smoke mode unless ``--full``, after one untimed warm-up run of
each of the three that compiles its forms (the isothermal run's too: on 2026-12-06, after a code
change, its first run spent ~4 s compiling and read as 6.75 s against 2.3-3.0 s warm). Prints
per bias the current, peak temperature and electro-thermal iterations, and the wall times with
the ratio self-heated / isothermal of each coupling (issue 14's goal: <= 1.5 on stage (d)).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from ecx_device.case import load_case
from ecx_device.runs.simulation import Simulation

ROOT = Path(__file__).parents[1]


def _sweep(case, smoke: bool) -> tuple[float, list[dict[str, float]]]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = Simulation(case, Path(tmp) / "run", smoke=smoke, log=None).run_iv()
        return time.perf_counter() - t0, result.rows


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--full"]
    smoke = "--full" not in sys.argv
    base = load_case(args[0] if args else ROOT / "cases" / "zhang2017_stage_d_dd.yaml")
    variants = {}
    for label, heated, coupling in (("isothermal", False, "fixed_point"),
                                    ("self-heated, fixed point", True, "fixed_point"),
                                    ("self-heated, Newton", True, "newton")):
        electrical = base.electrical.model_copy(update={"self_heating": heated})
        solver = base.solver.model_copy(update={"electrothermal_coupling": coupling})
        variants[label] = base.model_copy(update={"electrical": electrical, "solver": solver})
    for case in variants.values():
        _sweep(case, smoke)  # warm-up: form compilation (each variant has forms of its own)
    times = {}
    for label, case in variants.items():
        wall, rows = _sweep(case, smoke)
        times[label] = wall
        heated = case.electrical.self_heating
        print(f"{base.name} {label}{' (smoke)' if smoke else ''}: {wall:.2f} s")
        for r in rows:
            extra = (f", T_max {r['wire_T_max [K]']:.2f} K, "
                     f"{r['electrothermal_iterations [-]']:.0f} electro-thermal iterations, "
                     f"power balance {r['power_balance_error [-]']:.1e}" if heated else "")
            print(f"  V = {r['bias [V]']:+.3f} V: I = {r['cathode_current [A]']:.6e} A, "
                  f"{r['newton_iterations [-]']:.0f} Newton its{extra}")
    for label in list(variants)[1:]:
        print(f"wall time ratio {label} / isothermal: "
              f"{times[label] / times['isothermal']:.2f}")


if __name__ == "__main__":
    main()

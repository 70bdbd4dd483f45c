"""Benchmark: the cost of the two-way electro-thermal coupling of the drift-diffusion wire (not a
test).

Usage: .venv/bin/python benchmarks/bench_self_heating.py [CASE] [--full]

Runs the I-V sweep of a drift-diffusion case (default ``cases/zhang2017_stage_d_dd.yaml``, the
stage that heats: ~14 uA at 1 V) twice, isothermal (``electrical.self_heating: false``) and
self-heated, in smoke mode unless ``--full``, after one untimed warm-up run that compiles the
forms. Prints per bias the current, peak temperature and electro-thermal iterations, and the wall
times with their ratio self-heated / isothermal. No goal is set for the ratio: it is what the
coupling costs (a heat solve on the whole device per iteration, 1-4 iterations per bias).
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
    for heated in (False, True):
        electrical = base.electrical.model_copy(update={"self_heating": heated})
        variants[heated] = base.model_copy(update={"electrical": electrical})
    _sweep(variants[True], smoke)  # warm-up: form compilation
    times = {}
    for heated, case in variants.items():
        wall, rows = _sweep(case, smoke)
        times[heated] = wall
        label = "self-heated" if heated else "isothermal"
        print(f"{base.name} {label}{' (smoke)' if smoke else ''}: {wall:.2f} s")
        for r in rows:
            extra = (f", T_max {r['wire_T_max [K]']:.2f} K, "
                     f"{r['electrothermal_iterations [-]']:.0f} electro-thermal iterations, "
                     f"power balance {r['power_balance_error [-]']:.1e}" if heated else "")
            print(f"  V = {r['bias [V]']:+.3f} V: I = {r['cathode_current [A]']:.6e} A, "
                  f"{r['newton_iterations [-]']:.0f} Newton its{extra}")
    print(f"wall time ratio self-heated / isothermal: {times[True] / times[False]:.2f}")


if __name__ == "__main__":
    main()

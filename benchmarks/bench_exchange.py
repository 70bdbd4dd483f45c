"""Benchmark: wall time of the default case, +1.0 V for 1 s on the coupled model (the exchange on
the self-heated drift-diffusion wire, 2D axisymmetric) (not a test).

Usage: .venv/bin/python benchmarks/bench_exchange.py [CASE]

Runs the case as it is (fields, snapshots, plots and the report included) and prints the wall
time against the 60 s goal, the accepted and rejected time steps, the Newton iterations of the
ion steps, the carriers and the heat problem, the electro-thermal fixed-point iterations, and
where the time went. The split comes from timing methods of the solvers and writers (wrapped
here, nothing else changes). A first run in a fresh environment also pays FFCx's form
compilation (inside "set-up"); run the script twice to see the warm figure.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from ecx_device.case import load_case
from ecx_device.outputs import fields, plots, report
from ecx_device.runs import checkpoint, simulation
from ecx_device.runs.simulation import Simulation
from ecx_device.solvers.fixed_point import SelfHeatingProblem
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.solvers.splitting import ExchangeSplitting

ROOT = Path(__file__).parents[1]
GOAL = 60.0  # s, wall time goal of the default case


class Meter:
    """Wall time and call counts of wrapped callables, plus Newton iteration counts."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.iterations: dict[str, int] = defaultdict(int)

    def wrap(self, owner, name: str, label: str | None = None, iterations=None) -> None:
        """Time ``owner.name``; ``iterations(self_, result)`` -> (key, count) to add."""
        original = getattr(owner, name)
        label = label or name

        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                result = original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - t0
                self.calls[label] += 1
            if iterations is not None:
                key, count = iterations(args[0], result)
                self.iterations[key] += count
            return result

        setattr(owner, name, wrapper)


def _which(problem: CoupledProblem) -> str:
    names = set(problem.names)
    if {"c", "v", "X"} <= names:
        return "ions"
    return "carriers" if "psi" in names else "heat" if names == {"T"} else "electrical"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "cases" / "zhang2017_1V.yaml"
    case = load_case(path)
    m = Meter()
    m.wrap(CoupledProblem, "solve", "newton",
           lambda p, r: (_which(p), r.iterations))
    m.wrap(SelfHeatingProblem, "solve", "fixed point",
           lambda p, r: ("fixed-point iterations", p.iterations))
    m.wrap(ExchangeSplitting, "solve", "exchange steps")
    m.wrap(ExchangeSplitting, "solve_electrothermal", "electro-thermal re-solves",
           lambda p, r: ("re-solves done", int(bool(r))))
    m.wrap(ExchangeSplitting, "quantities", "quantities")
    # simulation.py imports write_snapshot by name: wrap the name it calls
    for owner, name in ((checkpoint, "save"), (simulation, "write_snapshot"),
                        (fields.FieldWriter, "write"), (plots, "exchange_plots"),
                        (report, "write_report")):
        m.wrap(owner, name)
    marks: dict[str, float] = {}

    def log(msg: str) -> None:
        if msg.startswith("unknowns:"):  # set-up done, before the first solve
            marks["loop_start"] = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        t0 = time.perf_counter()
        result = Simulation(case, out, log=log).run()
        wall = time.perf_counter() - t0
        info = json.loads((out / "results.json").read_text())
    f = result.final
    load = os.getloadavg()[0]
    print(f"{case.name} ({case.geometry.dimension}, P{case.solver.element_degree}, "
          f"{result.dofs} DOFs, {case.electrical.wire_model} wire): "
          f"{info['simulated_time [s]']:g} s simulated (complete: {info['complete']})")
    print(f"  wall time {wall:.1f} s; {wall / GOAL:.2f} x the {GOAL:g} s goal "
          f"(1-min load average at the end {load:.2f} on {os.cpu_count()} cores)")
    print(f"  {info['steps']} steps, {info['rejected_steps']} rejected; Newton iterations: "
          + ", ".join(f"{k} {v}" for k, v in sorted(m.iterations.items())))
    setup = marks["loop_start"] - t0
    loop = wall - setup
    print("  split:")
    rows = [("set-up", setup, "meshing, forms, equilibrium start")]
    ion = m.seconds["exchange steps"] - m.seconds["electro-thermal re-solves"]
    rows += [("ion steps", ion, f"{m.calls['exchange steps']} tried"),
             ("electro-thermal solves", m.seconds["electro-thermal re-solves"],
              f"{m.iterations['re-solves done']} solves in "
              f"{m.calls['electro-thermal re-solves']} calls")]
    for label in ("quantities", "save", "write", "write_snapshot", "exchange_plots",
                  "write_report"):
        rows.append((label, m.seconds[label], f"{m.calls[label]} calls"))
    rows.append(("rest", loop - sum(r[1] for r in rows[1:]), "CSV rows, step control, logs"))
    for label, seconds, note in rows:
        print(f"    {label:<24}{seconds:7.1f} s  {100 * seconds / wall:5.1f} %  ({note})")
    first, last = result.rows[0], f
    print(f"  current: {first['current [A]']:.4g} A at t = 0, {last['current [A]']:.4g} A at "
          f"t = {last['time [s]']:g} s; peak T {last['wire_T_max [K]']:.2f} K at z = "
          f"{last['wire_T_max_axial_position [nm]']:.1f} nm; X volume "
          f"{last['exchanged_volume [nm^3]']:.4g} nm^3; anode drop "
          f"{last.get('anode_drop [V]', float('nan')):.4f} V; max balance errors Cu "
          f"{info['max_cu_balance_error [-]']:.2g}, Cd {info['max_cd_balance_error [-]']:.2g}")


if __name__ == "__main__":
    main()

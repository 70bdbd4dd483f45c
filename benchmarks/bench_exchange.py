"""Benchmark: wall time of the default exchange run, +1.0 V for 1 s in 2D axisymmetric form (not a
test).

Usage: .venv/bin/python benchmarks/bench_exchange.py [CASE]

Runs the case as it is (fields, snapshots and plots included) and prints the wall time, the
accepted and rejected time steps, where the time went, and the ratio to the 60 s goal. The split
comes from timing the stepper's methods (wrapped here, nothing else changes) and the progress
log: mesh + setup, the electro-thermal solves (the first one and the re-solves), the ion steps,
the balances/quantities of each row, and the rest (checkpoints, CSV rows, fields, snapshots,
plots). A first run in a fresh environment also pays FFCx's form compilation (inside "mesh +
setup" and the first solves); run the script twice to see the warm figure.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from ecx_device.outputs import snapshots
from ecx_device.runs import checkpoint
from ecx_device.solvers.splitting import ExchangeSplitting
from ecx_device.case import load_case
from ecx_device.outputs import fields, plots
from ecx_device.runs.simulation import Simulation

ROOT = Path(__file__).parents[1]
GOAL = 60.0  # s, wall time goal of the default case


def _timed(owner, name: str, totals: dict, counts: dict) -> None:
    """Wrap ``owner.name`` (a method of a class or a function of a module) to add its wall time
    to ``totals[name]``."""
    original = getattr(owner, name)

    def wrapper(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            totals[name] += time.perf_counter() - t0
            counts[name] += 1

    setattr(owner, name, wrapper)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "cases" / "zhang2017_1V.yaml"
    case = load_case(path)
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for name in ("solve_electrothermal", "solve", "balance", "quantities"):
        _timed(ExchangeSplitting, name, totals, counts)
    # outputs: looked up at call time by run_exchange, so wrapping the module attributes works
    for owner, name in ((checkpoint, "save"), (snapshots, "write_snapshot"),
                        (fields.FieldWriter, "write"), (plots, "exchange_plots")):
        _timed(owner, name, totals, counts)
    marks: dict[str, float] = {}
    snapshots: dict[str, dict[str, float]] = {}
    resolves = 0

    def log(msg: str) -> None:
        now = time.perf_counter()
        if msg.startswith("unknowns:"):  # after the set-up, before the first solve
            marks["loop_start"] = now
            snapshots["loop_start"] = dict(totals)
        elif msg.startswith("done in"):  # after the plots
            marks["loop_end"] = now
            snapshots["loop_end"] = dict(totals)

    # count the electro-thermal solves actually done (the method returns None when it skips)
    solve = ExchangeSplitting.solve_electrothermal

    def counting(self, *args, **kwargs):
        nonlocal resolves
        rep = solve(self, *args, **kwargs)
        resolves += bool(rep)
        return rep

    ExchangeSplitting.solve_electrothermal = counting

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        t0 = time.perf_counter()
        result = Simulation(case, out, log=log).run()
        wall = time.perf_counter() - t0
        info = json.loads((out / "results.json").read_text())
    f = result.final
    before = marks["loop_start"] - t0
    first_solve = snapshots["loop_start"].get("solve_electrothermal", 0.0)
    after = wall - (marks["loop_end"] - t0)

    def in_loop(name: str) -> float:
        return snapshots["loop_end"].get(name, 0.0) - snapshots["loop_start"].get(name, 0.0)

    ion = in_loop("solve") - in_loop("solve_electrothermal")
    et = in_loop("solve_electrothermal")
    bal = in_loop("balance") + in_loop("quantities")
    outputs = {k: in_loop(k) for k in ("save", "write", "write_snapshot", "exchange_plots")}
    rest = marks["loop_end"] - marks["loop_start"] - ion - et - bal - sum(outputs.values())
    print(f"{case.name} ({case.geometry.dimension}, P{case.solver.element_degree}, "
          f"{result.dofs} DOFs): {info['simulated_time [s]']:g} s simulated "
          f"(complete: {info['complete']})")
    print(f"  wall time {wall:.1f} s (run's own results.json: {info['wall_time [s]']:.1f} s); "
          f"{info['steps']} steps, {info['rejected_steps']} rejected; "
          f"{wall / GOAL:.2f} x the {GOAL:g} s goal")
    print("  split:")
    for label, seconds, note in (
            ("mesh + setup", before - first_solve, "meshing, form compilation, stepper"),
            ("first electro-thermal", first_solve, "solve at the initial bias"),
            ("electro-thermal re-solves", et,
             f"{resolves - 1} solves in {counts['solve_electrothermal'] - 1} calls"),
            ("ion steps", ion, f"{counts['solve']} steps tried (accepted + rejected)"),
            ("balances + quantities", bal, f"{counts['balance']} balance evaluations"),
            ("checkpoints", outputs["save"], f"{counts['save']} written"),
            ("fields", outputs["write"], f"{counts['write']} frames"),
            ("snapshots", outputs["write_snapshot"], f"{counts['write_snapshot']} X maps"),
            ("plots", outputs["exchange_plots"], "exchange plots at the end"),
            ("rest of the loop", rest, "CSV rows, step control, transfers, logging"),
            ("after the log", after, "return")):
        print(f"    {label:<24}{seconds:7.1f} s  {100 * seconds / wall:5.1f} %  ({note})")
    print(f"  final: I = {f['current [A]']:.4g} A, T_max = {f['wire_T_max [K]']:.2f} K, "
          f"X volume = {f['exchanged_volume [nm^3]']:.4g} nm^3, "
          f"front = {f['front_position [nm]']:.1f} nm, "
          f"max balance errors Cu {info['max_cu_balance_error [-]']:.2g}, "
          f"Cd {info['max_cd_balance_error [-]']:.2g}")


if __name__ == "__main__":
    main()

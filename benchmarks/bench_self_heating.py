"""Benchmark: the cost of the two-way electro-thermal coupling of the drift-diffusion wire (not a
test).

Usage: .venv/bin/python benchmarks/bench_self_heating.py [CASE] [--full] [--tolerances T1,T2,...]
       .venv/bin/python benchmarks/bench_self_heating.py [CASE] [--full] --first-solves

Runs the I-V sweep of a drift-diffusion case (default ``cases/zhang2017_stage_d_dd.yaml``, the
stage that heats: ~14 uA at 1 V) three times, isothermal (``electrical.self_heating: false``) and
self-heated with each electro-thermal coupling (``solver.electrothermal_coupling``: the fixed
point, the monolithic Newton), in smoke mode unless ``--full``, after one untimed warm-up run of
each of the three that compiles its forms (the isothermal run's too: on 2026-12-06, after a code
change, its first run spent ~4 s compiling and read as 6.75 s against 2.3-3.0 s warm). Prints
per bias the current, peak temperature and electro-thermal iterations, and the wall times with
the ratio self-heated / isothermal of each coupling (issue 14's goal: <= 1.5 on stage (d)).

With ``--tolerances`` (K, comma-separated) it runs instead the isothermal sweep and the fixed
point at each ``solver.electrothermal_tolerance`` given, and prints the ratio, the passes per
bias and the current at the last bias: how far a looser stop would take the fixed point. At a
tolerance loose enough for one pass per bias, what is left is the fixed point's floor (the first
carrier solve at the predicted wire temperature and one heat solve).

With ``--first-solves`` it prints, per bias of the isothermal and the fixed-point sweep, the
residual norms of the carrier equations at the predicted start of the bias's first carrier solve,
where the largest entry sits (r, z in nm when axisymmetric) and that solve's Newton iterations:
what the prediction leaves to Newton in each.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from ecx_device.case import load_case
from ecx_device.runs.simulation import Simulation
from ecx_device.solvers.fixed_point import SelfHeatingProblem
from ecx_device.solvers.newton import CoupledProblem

ROOT = Path(__file__).parents[1]


def _sweep(case, smoke: bool) -> tuple[float, list[dict[str, float]]]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = Simulation(case, Path(tmp) / "run", smoke=smoke, log=None).run_iv()
        return time.perf_counter() - t0, result.rows


def _variant(base, heated: bool, coupling: str = "fixed_point", tolerance: float | None = None):
    """``base`` with self-heating on or off, the given coupling and fixed-point tolerance (K)."""
    electrical = base.electrical.model_copy(update={"self_heating": heated})
    update = {"electrothermal_coupling": coupling}
    if tolerance is not None:
        update["electrothermal_tolerance"] = tolerance
    solver = base.solver.model_copy(update=update)
    return base.model_copy(update={"electrical": electrical, "solver": solver})


def _couplings(base, smoke: bool) -> None:
    variants = {"isothermal": _variant(base, False),
                "self-heated, fixed point": _variant(base, True),
                "self-heated, Newton": _variant(base, True, "newton")}
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


def _tolerances(base, smoke: bool, tolerances: list[float]) -> None:
    iso = _variant(base, False)
    _sweep(iso, smoke)
    _sweep(_variant(base, True), smoke)  # warm-up of the self-heated forms
    t_iso, _ = _sweep(iso, smoke)
    print(f"{base.name}{' (smoke)' if smoke else ''}: isothermal {t_iso:.2f} s")
    for tol in tolerances:
        wall, rows = _sweep(_variant(base, True, tolerance=tol), smoke)
        passes = [int(r["electrothermal_iterations [-]"]) for r in rows]
        print(f"  tolerance {tol:g} K: fixed point {wall:.2f} s, ratio {wall / t_iso:.2f}, "
              f"passes per output bias {passes}, "
              f"I({rows[-1]['bias [V]']:+.2f} V) = {rows[-1]['cathode_current [A]']:.9e} A")


def _record_first_solves(log: list):
    """Wrap the solves (for this diagnostic only) so that the first carrier solve of each bias
    appends (bias, residual norms at its start, Newton iterations) to ``log``; returns the
    function that unwraps them."""
    carrier_solve, heated_solve = CoupledProblem.solve, SelfHeatingProblem.solve
    pending = {"heated": False, "first": True}

    def solve(self):
        first = "psi" in self.names and pending["first"]
        norms = self.residual_norms() if first else None
        worst = self.largest_residuals()[0] if first else None
        result = carrier_solve(self)
        if first:
            pending["first"] = not pending["heated"]  # the fixed point: only its first solve
            log.append((float(self.ctx.constants["bias"].value), norms, worst,
                        result.iterations))
        return result

    def heated(self):
        pending.update(heated=True, first=True)
        return heated_solve(self)

    def unwrap():
        CoupledProblem.solve, SelfHeatingProblem.solve = carrier_solve, heated_solve

    CoupledProblem.solve, SelfHeatingProblem.solve = solve, heated
    return unwrap


def _first_solves(base, smoke: bool) -> None:
    for label, case in (("isothermal", _variant(base, False)),
                        ("fixed point", _variant(base, True))):
        _sweep(case, smoke)  # warm-up
        log = []
        unwrap = _record_first_solves(log)
        try:
            _sweep(case, smoke)
        finally:
            unwrap()
        print(f"{base.name}{' (smoke)' if smoke else ''} {label}: first carrier solve per bias")
        for bias, norms, worst, its in log:
            text = ", ".join(f"{k} {v:.2e}" for k, v in norms.items())
            where = ", ".join(f"{x:.1f}" for x in worst["point [nm]"])
            print(f"  V = {bias:+.3f} V: {its} Newton its from residual norms {text}; largest "
                  f"entry {worst['equation']} {worst['residual']:.2e} at ({where}) nm")


def main() -> None:
    argv = sys.argv[1:]
    tolerances = None
    if "--tolerances" in argv:
        i = argv.index("--tolerances")
        tolerances = [float(t) for t in argv[i + 1].split(",")]
        del argv[i:i + 2]
    smoke = "--full" not in argv
    args = [a for a in argv if a != "--full"]
    case_args = [a for a in args if not a.startswith("--")]
    base = load_case(case_args[0] if case_args else ROOT / "cases" / "zhang2017_stage_d_dd.yaml")
    if "--first-solves" in args:
        _first_solves(base, smoke)
    elif tolerances:
        _tolerances(base, smoke, tolerances)
    else:
        _couplings(base, smoke)


if __name__ == "__main__":
    main()

"""Thermal variant after Casu et al. (ACS Nano 2023): exchange rate of wurtzite and zinc-blende CdSe
wires at 125, 250 and 400 degC (issue 4).

Runs ``cases/casu2023_wurtzite.yaml`` and ``cases/casu2023_zincblende.yaml`` as they are (0 V hold
for 3600 s, Cu from the free-surface source) with only ``thermal.heat_sink_temperature``
replaced, and field/plot output switched off (the time series is all this needs). The duration is
the same 3600 s at every temperature (not shortened).

Exchange rate, in nm^3/h: the mean rate to half conversion,

    R_50 = (V_wire / 2) / t_50,

with V_wire the wire volume (exchanged_volume / exchanged_fraction) and t_50 the time at which
``exchanged_fraction [-]`` reaches 0.5, interpolated linearly between the two time-series rows
that bracket it. The conversion is sigmoidal (a converted surface raises the Cu solubility and
opens a fast Cu2Se path), so an "initial" slope depends on the window chosen; R_50 does not.
If a run never reaches half conversion, the run mean V(t_end) / t_end is reported instead and the
``basis`` column says so. The peak slope max(dV/dt) between consecutive rows is listed beside it.

Onset: ``t_1%``, the time at which the exchanged fraction first reaches 1 % (same interpolation).
The wall time listed is the run's own (``results.json``: meshing, set-up and time loop).

Usage:  .venv/bin/python docs/figures/make_casu_figures.py [--jobs 2] [--out results/casu_rates]
        [--collect]   (--collect: summarise finished runs only)
Writes docs/figures/casu_rates.csv and docs/figures/casu_rates.png and prints the table.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import yaml

from ecx_device.units import BOLTZMANN, ELEMENTARY_CHARGE

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PHASES = {"wurtzite": ROOT / "cases" / "casu2023_wurtzite.yaml",
          "zincblende": ROOT / "cases" / "casu2023_zincblende.yaml"}
TEMPERATURES_C = (125, 250, 400)
K_B_EV = BOLTZMANN / ELEMENTARY_CHARGE  # eV/K
SECONDS_PER_HOUR = 3600.0


def barrier_sum_ev(phase: str) -> float:
    """Casu's E_b + E_c + E_d (eV) of a phase, from the wire material of its case file."""
    from ecx_device.case.loader import read_yaml
    from ecx_device.materials import load_material

    wire = load_material(read_yaml(PHASES[phase])["materials"]["wire"])
    names = ("interstitial_formation_barrier", "interstitial_hop_barrier", "kick_out_barrier")
    return sum(float(wire(n, 300.0)) for n in names) / ELEMENTARY_CHARGE  # stored in J


def run_one(phase: str, t_celsius: int, out_root: str) -> str:
    """One run (in a worker process); returns its output folder."""
    from ecx_device.case.loader import read_yaml, validate_case
    from ecx_device.runs.simulation import Simulation

    data = read_yaml(PHASES[phase])
    data["name"] = f"{data['name']}_{t_celsius}C"
    data["thermal"]["heat_sink_temperature"] = f"{t_celsius} degC"
    data["outputs"] = {"fields": False, "plots": False}
    data["exchange"]["snapshot_times"] = []
    case = validate_case(data, source=f"{PHASES[phase].name} at {t_celsius} degC")
    out = run_folder(out_root, phase, t_celsius)
    Simulation(case, out, log=None).run()
    return str(out)


def run_folder(out_root: str, phase: str, t_celsius: int) -> Path:
    return Path(out_root) / f"{phase}_{t_celsius}C"


def load_run(out_root: str, phase: str, t_celsius: int) -> dict:
    """Time series (columns as arrays), set temperature and wall time of a finished run."""
    from ecx_device.outputs.quantities import read_series

    out = run_folder(out_root, phase, t_celsius)
    rows = read_series(out / "timeseries.csv")
    info = json.loads((out / "results.json").read_text())
    if not info["complete"]:
        raise SystemExit(f"{out}: run incomplete")
    resolved = yaml.safe_load((out / "case.resolved.yaml").read_text())
    T_K = float(resolved["thermal"]["heat_sink_temperature"])
    series = {k: np.array([row[k] for row in rows]) for k in rows[0]}
    return {"phase": phase, "T_C": t_celsius, "T_K": T_K, "wall": info["wall_time [s]"],
            "series": series, "out": str(out)}


def crossing_time(t: np.ndarray, f: np.ndarray, level: float) -> float:
    """First time f reaches ``level``, linear between the bracketing rows (nan if never)."""
    if f.max() < level:
        return float("nan")
    i = int(np.argmax(f >= level))  # f[0] = 0 < level, so i >= 1
    return float(np.interp(level, f[i - 1:i + 1], t[i - 1:i + 1]))


def rate_summary(run: dict) -> dict:
    """R_50 (or the run mean) and the side quantities of one run (see the module docstring)."""
    s = run["series"]
    t, V, f = s["time [s]"], s["exchanged_volume [nm^3]"], s["exchanged_fraction [-]"]
    last = np.nonzero(f > 0)[0]
    v_wire = V[last[-1]] / f[last[-1]] if len(last) else float("nan")
    if f.max() >= 0.5:
        t50 = crossing_time(t, f, 0.5)
        rate, basis = 0.5 * v_wire / t50 * SECONDS_PER_HOUR, "R_50"
    else:
        t50 = float("nan")
        rate, basis = V[-1] / t[-1] * SECONDS_PER_HOUR, "run_mean"
    t01 = crossing_time(t, f, 0.01)  # onset
    dt = np.diff(t)
    peak = float(np.max(np.diff(V)[dt > 0] / dt[dt > 0])) * SECONDS_PER_HOUR
    # cumulative Cd sinks: each row's rate belongs to the step that led to it
    sublimated = float(np.sum(s["cd_sublimation_rate [1/s]"] * s["time_step [s]"]))
    kicked = float(np.sum(s["cd_kickout_rate [1/s]"] * s["time_step [s]"]))
    T_dev = float(max(np.max(np.abs(s["wire_T_max [K]"] - run["T_K"])),
                      np.max(np.abs(s["wire_T_mean [K]"] - run["T_K"]))))
    return {
        "phase": run["phase"], "T [degC]": run["T_C"], "T [K]": run["T_K"],
        "rate [nm^3/h]": rate, "basis": basis, "t_1% [s]": t01, "t_50 [s]": t50,
        "peak_rate [nm^3/h]": peak, "final_fraction [-]": float(f[-1]),
        "wire_volume [nm^3]": v_wire, "duration [s]": float(t[-1]), "steps": len(t) - 1,
        "wall_time [s]": run["wall"], "max_cu_balance_error [-]": float(s["cu_balance_error [-]"].max()),
        "max_abs_current [A]": float(np.abs(s["current [A]"]).max()),
        "max_T_deviation [K]": T_dev,
        "cd_sublimated_over_kicked_out [-]": sublimated / kicked if kicked > 0 else float("nan"),
    }


def apparent_activation_energy(rows: list[dict], phase: str) -> float:
    """Least-squares slope of ln R against 1/T over the three temperatures, as an energy (eV)."""
    sel = [r for r in rows if r["phase"] == phase]
    x = np.array([1.0 / r["T [K]"] for r in sel])
    y = np.log([r["rate [nm^3/h]"] for r in sel])
    return float(-np.polyfit(x, y, 1)[0] * K_B_EV)


def figure(runs: list[dict], rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, arr) = plt.subplots(1, 2, figsize=(11, 4.4))
    colors = {125: "tab:blue", 250: "tab:orange", 400: "tab:red"}
    styles = {"wurtzite": "-", "zincblende": "--"}
    for run in sorted(runs, key=lambda r: (r["phase"], r["T_C"])):
        s = run["series"]
        t, V = s["time [s]"][1:], s["exchanged_volume [nm^3]"][1:]
        ax.loglog(t, np.maximum(V, 1e-3), styles[run["phase"]], color=colors[run["T_C"]],
                  label=f"{'wz' if run['phase'] == 'wurtzite' else 'zb'} {run['T_C']} °C")
    ax.set_xlabel("time [s]")
    ax.set_ylabel("exchanged volume [nm$^3$]")
    ax.set_ylim(1.0, 1e6)
    ax.set_title("0 V, Cu from the free surface (axisymmetric)")
    ax.legend(fontsize=8, ncol=2)
    for phase, marker in (("wurtzite", "o"), ("zincblende", "s")):
        sel = sorted((r for r in rows if r["phase"] == phase), key=lambda r: r["T [K]"])
        x = [1000.0 / r["T [K]"] for r in sel]
        y = [r["rate [nm^3/h]"] for r in sel]
        e_app = apparent_activation_energy(rows, phase)
        arr.semilogy(x, y, marker + styles[phase], color="k" if phase == "wurtzite" else "tab:green",
                     label=f"{phase}: E_app = {e_app:.2f} eV "
                     f"(E_b+E_c+E_d = {barrier_sum_ev(phase):.2f} eV)")
        for r, xi, yi in zip(sel, x, y):
            if r["basis"] != "R_50":
                arr.annotate("run mean", (xi, yi), fontsize=7, textcoords="offset points",
                             xytext=(4, -10))
    arr.set_xlabel("1000 / T [1/K]")
    arr.set_ylabel("exchange rate R$_{50}$ [nm$^3$/h]")
    arr.set_title("Arrhenius plot (125, 250, 400 °C)")
    arr.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2, help="runs at once (default 2)")
    ap.add_argument("--out", default=str(ROOT / "results" / "casu_rates"),
                    help="folder for the run outputs")
    ap.add_argument("--collect", action="store_true",
                    help="only summarise the finished runs in --out (no new runs)")
    args = ap.parse_args()
    jobs = [(p, T) for p in PHASES for T in TEMPERATURES_C]
    if not args.collect:
        # the slowest runs first, so two workers finish together
        order = sorted(jobs, key=lambda j: (j[0] != "zincblende", -j[1]))
        with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
            list(pool.map(run_one, *zip(*order), [args.out] * len(order)))
    runs = [load_run(args.out, p, T) for p, T in jobs]
    rows = sorted((rate_summary(r) for r in runs), key=lambda r: (r["phase"], r["T [degC]"]))
    with open(HERE / "casu_rates.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    figure(runs, rows, HERE / "casu_rates.png")
    print(f"{'phase':<11} {'T [C]':>5} {'rate [nm^3/h]':>14} {'basis':>8} {'t_1% [s]':>10} "
          f"{'t_50 [s]':>10} "
          f"{'peak [nm^3/h]':>14} {'X_end':>8} {'steps':>5} {'wall [s]':>8}")
    for r in rows:
        print(f"{r['phase']:<11} {r['T [degC]']:>5} {r['rate [nm^3/h]']:>14.3e} {r['basis']:>8} "
              f"{r['t_1% [s]']:>10.3g} {r['t_50 [s]']:>10.3g} {r['peak_rate [nm^3/h]']:>14.3e} "
              f"{r['final_fraction [-]']:>8.4f} {r['steps']:>5} {r['wall_time [s]']:>8.0f}")
    for phase in PHASES:
        print(f"{phase}: apparent activation energy {apparent_activation_energy(rows, phase):.3f} eV"
              f" (Casu E_b + E_c + E_d = {barrier_sum_ev(phase):.2f} eV)")
    worst = max(r["max_cu_balance_error [-]"] for r in rows)
    print(f"largest Cu balance error {worst:.2e}; largest |T - T_set| "
          f"{max(r['max_T_deviation [K]'] for r in rows):.2e} K; largest |I| "
          f"{max(r['max_abs_current [A]'] for r in rows):.2e} A")
    if not all(math.isfinite(r["rate [nm^3/h]"]) for r in rows):
        raise SystemExit("a rate is not finite")


if __name__ == "__main__":
    main()

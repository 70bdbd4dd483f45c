"""Run the Zhang et al. 2017 exchange cases and draw one figure per validation signature
(docs/validation.md, "Exchange dynamics"). One parameter set: the shipped cases as they are.

    .venv/bin/python docs/figures/make_exchange_figures.py [--reuse]

Runs go to results/validation/<case>; ``--reuse`` skips a run whose results.json says complete.
A run that stops (a solver failure) keeps its rows so far; the table says where and why.
Writes docs/figures/exchange_*.png and docs/figures/exchange_summary.csv, and prints the table.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FIG = ROOT / "docs" / "figures"
RUNS = ROOT / "results" / "validation"
CASES = ["zhang2017_1V", "zhang2017_0p5V", "zhang2017_ladder", "zhang2017_1V_reversed",
         "zhang2017_1V_anode_Ag", "zhang2017_1V_anode_Li", "zhang2017_1V_anode_Au",
         "zhang2017_1V_anode_Pt"]


WALL: dict[str, float] = {}
STOPPED: dict[str, str] = {}


def run(name: str, reuse: bool) -> list[dict[str, float]]:
    from ecx_device.case import load_case
    from ecx_device.errors import SolverError
    from ecx_device.outputs.quantities import read_series
    from ecx_device.runs.simulation import Simulation

    out = RUNS / name
    done = out / "results.json"
    if not (reuse and done.exists() and json.loads(done.read_text()).get("complete")):
        t0 = time.perf_counter()
        try:
            Simulation(load_case(ROOT / "cases" / f"{name}.yaml"), out, overwrite=True,
                       log=None).run()
        except SolverError as err:
            STOPPED[name] = str(err)
        WALL[name] = time.perf_counter() - t0
        print(f"{name}: ran in {WALL[name]:.1f} s" + (f" (stopped: {STOPPED[name]})"
                                                        if name in STOPPED else ""))
    return read_series(out / "timeseries.csv")


def col(rows, key):
    return np.array([r[key] for r in rows])


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parser = argparse.ArgumentParser()
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    series = {name: run(name, args.reuse) for name in CASES}

    # summary table
    summary = []
    for name, rows in series.items():
        last = rows[-1]
        summary.append({
            "case": name, "time [s]": last["time [s]"], "bias [V]": last["bias [V]"],
            "current start [A]": rows[1]["cathode_current [A]"],
            "current [A]": last["cathode_current [A]"], "wire_T_max [K]": last["wire_T_max [K]"],
            "T_max position [nm]": last["wire_T_max_axial_position [nm]"],
            "cu_in_total [atoms]": last["cu_in_total [-]"],
            "exchanged_volume [nm^3]": last["exchanged_volume [nm^3]"],
            "exchanged_fraction [-]": last["exchanged_fraction [-]"],
            "front_position [nm]": last["front_position [nm]"],
            # issue 12: displaced Cd stays in the wire until it evaporates
            "cd_displaced [atoms]": last["cd_displaced [-]"],
            "cd_evaporated [atoms]": last["cd_evaporated_total [-]"],
            "cd_sublimation_rate [1/s]": last["cd_sublimation_rate [1/s]"],
            "net exchange rate [1/s]": last["cd_kickout_rate [1/s]"],
            "anode_drop [V]": last.get("anode_drop [V]", float("nan")),
            "anode_overpotential [V]": last.get("anode_overpotential [V]", float("nan")),
            "max cu_balance_error [-]": max(r["cu_balance_error [-]"] for r in rows),
            "max cd_balance_error [-]": max(r["cd_balance_error [-]"] for r in rows),
            "steps": len(rows) - 1, "wall [s]": WALL.get(name, json.loads(
                (RUNS / name / "results.json").read_text()).get("wall_time [s]", float("nan"))),
            "stopped": STOPPED.get(name, "")})
    with (FIG / "exchange_summary.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(summary[0]))
        w.writeheader()
        w.writerows(summary)
    for s in summary:
        print(", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                        for k, v in s.items()))

    # 1. 1 V for 1 s: X maps at the snapshots, temperature, history
    snaps = sorted((RUNS / "zhang2017_1V" / "snapshots").glob("composition_t*.npz"),
                   key=lambda p: float(p.stem.split("_t")[1][:-1]))
    fig, axes = plt.subplots(len(snaps) + 1, 1, figsize=(8, 2.0 * (len(snaps) + 1)))
    for ax, path in zip(axes, snaps):
        d = np.load(path)
        r = np.concatenate([-d["r"][::-1], d["r"]])
        X = np.concatenate([d["X"][:, ::-1], d["X"]], axis=1)
        m = ax.pcolormesh(d["z"], r, X.T, vmin=0, vmax=max(1e-30, float(X.max())),
                          shading="auto", cmap="viridis")
        fig.colorbar(m, ax=ax, label="X")
        ax.set_title(f"t = {path.stem.split('_t')[1]}   (colour scale to max X = {X.max():.3g})",
                     fontsize=8)
        ax.set_ylabel("r [nm]")
    rows = series["zhang2017_1V"]
    sink = 300.0  # the case's heat sinks
    axes[-1].plot(col(rows, "time [s]"), col(rows, "wire_T_max [K]") - sink, color="tab:red")
    axes[-1].set_ylabel("peak wire T - 300 K [K]")
    axes[-1].set_xlabel("time [s]  (maps: z from the Cu surface [nm])")
    fig.suptitle("zhang2017_1V: exchanged fraction X at +1 V (Cu anode), and peak temperature")
    fig.tight_layout()
    fig.savefig(FIG / "exchange_1V_maps.png", dpi=110)
    plt.close(fig)

    # 2. 0.5 V: growth against time and its rate
    rows = series["zhang2017_0p5V"]
    t, vol = col(rows, "time [s]"), col(rows, "exchanged_volume [nm^3]")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    a1.plot(t, vol, "o-", ms=2)
    a1.set_xlabel("time [s]")
    a1.set_ylabel("exchanged volume [nm$^3$]")
    rate = np.gradient(vol, t)
    a2.plot(t[1:], rate[1:], "o-", ms=2)
    a2.set_xlabel("time [s]")
    a2.set_ylabel("growth rate [nm$^3$/s]")
    fig.suptitle("zhang2017_0p5V: growth at +0.5 V")
    fig.tight_layout()
    fig.savefig(FIG / "exchange_0p5V_growth.png", dpi=110)
    plt.close(fig)

    # 3. ladder: exchanged volume per step
    rows = series["zhang2017_ladder"]
    fig, a1 = plt.subplots(figsize=(8, 3.6))
    a1.semilogy(col(rows, "time [s]"), np.maximum(col(rows, "exchanged_volume [nm^3]"), 1e-12))
    a1.set_xlabel("time [s]")
    a1.set_ylabel("exchanged volume [nm$^3$] (floor 1e-12)")
    a2 = a1.twinx()
    a2.step(col(rows, "time [s]"), col(rows, "bias [V]"), where="pre", color="0.5")
    a2.set_ylabel("bias [V]", color="0.5")
    fig.suptitle("zhang2017_ladder: 0-0.4 V, 60 s per step")
    fig.tight_layout()
    fig.savefig(FIG / "exchange_ladder.png", dpi=110)
    plt.close(fig)

    # 4. polarity and anode metals: exchanged volume and Cu inflow after 1 s at 1 V
    names = ["zhang2017_1V", "zhang2017_1V_reversed", "zhang2017_1V_anode_Li",
             "zhang2017_1V_anode_Ag", "zhang2017_1V_anode_Pt", "zhang2017_1V_anode_Au"]
    labels = ["Cu", "Cu, W positive", "Li (stopped at 6 us)", "Ag", "Pt", "Au"]
    vols = [max(series[n][-1]["exchanged_volume [nm^3]"], 1e-12) for n in names]
    cu_in = [max(series[n][-1]["cu_in_total [-]"], 1e-12) for n in names]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    a1.bar(labels, vols)
    a1.set_yscale("log")
    a1.set_ylabel("exchanged volume after 1 s [nm$^3$]")
    a2.bar(labels, cu_in, color="tab:orange")
    a2.set_yscale("log")
    a2.set_ylabel("Cu atoms in after 1 s")
    for a in (a1, a2):
        a.tick_params(axis="x", rotation=30)
    fig.suptitle("1 V for 1 s: polarity and anode metal (values floored at 1e-12)")
    fig.tight_layout()
    fig.savefig(FIG / "exchange_anodes_polarity.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()

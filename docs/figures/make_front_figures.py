"""Thermal exchange of CdSe wires with the supply- and front-limited kinetics (Casu et al., ACS
Nano 2023; issue 13): onset temperatures, rates at 400 degC against the diameter, Arrhenius
plots, X maps of the entry and the front, and the effect of less Cu.

Every run is ``cases/casu2023_front_wurtzite.yaml`` or ``casu2023_front_zincblende.yaml`` (one
parameter set: a 350 nm rod at the grid temperature, Cu from one donor on its tip, one serial
entry point, Casu's Table 1 barriers) with only the temperature, the diameter, the donors or
the duration changed, as listed in STUDIES:

- onset: both phases, 1 h at 100-400 degC, 40 nm wire;
- diameter: wurtzite, 400 degC, 10 h, 10/18/40 nm; the same with a side-band donor whose
  contact grows with the wire (every contact site an entry site) for contrast;
- maps: wurtzite, 400 degC, 4 h, 40 nm, X snapshots;
- less Cu: wurtzite, 400 degC, 1 h: two donors (top and bottom), one, and one donor whose whole
  contact (radius 2 nm or 1 nm) admits Cu, every site a serial channel.

Rate: the exchanged volume gained between 10 % of t_2 and t_2 over that time, in nm^3/h, with
t_2 the end of the run or the time the wire is 80 % exchanged if that comes first (the seed under
the donor is product from the start and is not counted). Casu's serial
estimate for the same number of entry sites, n f P_CE (1 - c_eq/c_D) / N_site-density, is listed
beside it (physics/casu.py; the factor 1 - c_eq/c_D > 0.99 is the rate law's reverse rate).
Onset: the lowest temperature of the grid at which the wire gains at least V_VISIBLE = 1000 nm^3
(a 10 nm cube: an estimate of what an in-situ map shows) within 1 h, and the temperature where
the fitted Arrhenius line reaches it. Apparent activation energy: slope of ln(rate) against 1/T
over the runs that gained more than 10 nm^3.

Usage:  .venv/bin/python docs/figures/make_front_figures.py [--out results/front] [--collect]
        [--only STUDY_PREFIX ...]
Writes docs/figures/front_runs.csv, front_arrhenius.png, front_diameter.png, front_maps.png,
front_less_cu.png and prints the tables (run date and wall time of every run in the CSV).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from ecx_device.units import BOLTZMANN, ELEMENTARY_CHARGE

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CASES = {"wurtzite": ROOT / "cases" / "casu2023_front_wurtzite.yaml",
         "zincblende": ROOT / "cases" / "casu2023_front_zincblende.yaml"}
K_B_EV = BOLTZMANN / ELEMENTARY_CHARGE
V_VISIBLE = 1000.0  # nm^3
ONE_ENTRY = [{"at": "top", "radius": "2 nm", "entry_sites": 1}]
MAP_TIMES = (30, 120, 600, 1800, 3600, 14400)


def _study(name, phase, t_c, hours, diameter=40, donors=ONE_ENTRY, snapshots=(), contact=1.0):
    return {"name": name, "phase": phase, "T": t_c, "hours": hours, "diameter": diameter,
            "donors": donors, "snapshots": list(snapshots), "contact": contact}


STUDIES = (
    [_study(f"onset_{p}_{t}C", p, t, 1) for p in CASES
     for t in (100, 125, 150, 200, 250, 300, 350, 400)]
    + [_study(f"diameter_{d}nm", "wurtzite", 400, 10, d) for d in (10, 18, 40)]
    + [_study(f"diameter_band_{d}nm", "wurtzite", 400, 0.05, d,
              [{"at": "side", "z": "175 nm", "radius": "2 nm"}]) for d in (10, 18, 40)]
    + [_study("maps", "wurtzite", 400, 4, snapshots=MAP_TIMES)]
    + [_study("less_cu_two_donors", "wurtzite", 400, 1,
              donors=ONE_ENTRY + [{"at": "bottom", "radius": "2 nm", "entry_sites": 1}]),
       _study("less_cu_contact_2nm", "wurtzite", 400, 1,
              donors=[{"at": "top", "radius": "2 nm"}]),
       _study("less_cu_contact_1nm", "wurtzite", 400, 1,
              donors=[{"at": "top", "radius": "1 nm"}], contact=0.5)])


def run_one(study: dict, out_root: str) -> str:
    """One run (in a fresh worker process); returns its folder."""
    from ecx_device.case.loader import read_yaml, validate_case
    from ecx_device.runs.simulation import Simulation

    data = read_yaml(CASES[study["phase"]])
    data["name"] = f"front_{study['name']}"
    data["thermal"]["heat_sink_temperature"] = f"{study['T']} degC"
    particle = data["geometry"]["particle"]
    particle.update(diameter=f"{study['diameter']} nm", donors=study["donors"],
                    contact_mesh_size=f"{study['contact']} nm")
    data["bias"]["protocol"][0]["duration"] = f"{study['hours'] * 3600:g} s"
    data["exchange"]["snapshot_times"] = [f"{t} s" for t in study["snapshots"]]
    data["outputs"] = {"fields": False, "plots": bool(study["snapshots"])}
    case = validate_case(data, source=f"study {study['name']}")
    out = Path(out_root) / study["name"]
    Simulation(case, out, overwrite=True, log=None).run()
    return str(out)


def read_rows(folder: Path) -> list[dict[str, float]]:
    with (folder / "timeseries.csv").open() as f:
        return [{k: float(v) if v else math.nan for k, v in r.items()} for r in csv.DictReader(f)]


def casu_rate(study: dict, entry_sites: float) -> float:
    """Casu's serial estimate for ``entry_sites`` channels (nm^3/h), with the rate law's
    reverse factor 1 - c_eq/c_D."""
    from ecx_device.case.loader import read_yaml
    from ecx_device.materials import load_material
    from ecx_device.physics.casu import StepBarriers, event_rate

    host = load_material(read_yaml(CASES[study["phase"]])["materials"]["wire"])
    T = study["T"] + 273.15
    e = [float(host(n, T)) for n in ("interstitial_formation_barrier",
                                     "interstitial_hop_barrier", "kick_out_barrier")]
    rate = event_rate(T, StepBarriers(*e), float(host("exchange_attempt_frequency", T)))
    reverse = math.exp(-float(host("exchange_driving_energy", T)) / (BOLTZMANN * T))
    sites_per_nm3 = float(host("sulfur_site_density", T)) * 1e-27
    return entry_sites * rate * (1 - reverse) / sites_per_nm3 * 3600


def entry_sites(study: dict) -> float:
    """Serial channels of the study's donors (every site of a contact unless given)."""
    from ecx_device.case.loader import read_yaml
    from ecx_device.materials import load_material

    host = load_material(read_yaml(CASES[study["phase"]])["materials"]["wire"])
    n_s = float(host("sulfur_site_density", 300.0)) ** (2 / 3) * 1e-18  # sites/nm^2
    total = 0.0
    for d in study["donors"]:
        r = float(d["radius"].split()[0])
        area = 2 * math.pi * study["diameter"] / 2 * 2 * r if d["at"] == "side" else math.pi * r**2
        total += d.get("entry_sites") or n_s * area
    return total


def summarise(out_root: Path) -> list[dict]:
    table = []
    for st in STUDIES:
        folder = out_root / st["name"]
        rows = read_rows(folder)
        res = json.loads((folder / "results.json").read_text())
        t = np.array([r["time [s]"] for r in rows])
        v = np.array([r["exchanged_volume [nm^3]"] for r in rows])
        frac = np.array([r["exchanged_fraction [-]"] for r in rows])
        # the window: from 10 % of the time to 80 % exchanged (or the end), so a wire that is
        # converted within the run is measured while it converts
        t2 = float(np.interp(0.8, frac, t)) if frac[-1] >= 0.8 else t[-1]
        t0 = 0.1 * t2
        v0, v2 = float(np.interp(t0, t, v)), float(np.interp(t2, t, v))
        n = entry_sites(st)
        table.append({"study": st["name"], "phase": st["phase"], "T [degC]": st["T"],
                      "diameter [nm]": st["diameter"], "entry sites": n,
                      "gained in run [nm^3]": v[-1] - v[0],
                      "rate [nm^3/h]": (v2 - v0) / (t2 - t0) * 3600,
                      "Casu serial [nm^3/h]": casu_rate(st, n),
                      "exchanged fraction": rows[-1]["exchanged_fraction [-]"],
                      "max balance error": max(res.get("max_cu_balance_error [-]", 0),
                                               res.get("max_cd_balance_error [-]", 0)),
                      "steps": res["steps"], "wall [s]": res["wall_time [s]"],
                      "_rows": rows, "_folder": folder})
    return table


def arrhenius(table: list[dict], phase: str) -> tuple[float, float, float]:
    """(E_a [eV], ln prefactor, onset T [K] of V_VISIBLE in 1 h) from the onset runs."""
    runs = [r for r in table if r["study"].startswith(f"onset_{phase}_")
            and r["gained in run [nm^3]"] > 10.0]
    inv = np.array([1 / (r["T [degC]"] + 273.15) for r in runs])
    slope, icpt = np.polyfit(inv, np.log([r["rate [nm^3/h]"] for r in runs]), 1)
    return -slope * K_B_EV, icpt, slope / (math.log(V_VISIBLE) - icpt)


def onset_grid(table: list[dict], phase: str) -> int | None:
    for r in sorted((r for r in table if r["study"].startswith(f"onset_{phase}_")),
                    key=lambda r: r["T [degC]"]):
        if r["gained in run [nm^3]"] >= V_VISIBLE:
            return r["T [degC]"]
    return None


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_arrhenius(table: list[dict], fits: dict) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for phase, colour in (("wurtzite", "tab:blue"), ("zincblende", "tab:orange")):
        runs = [r for r in table if r["study"].startswith(f"onset_{phase}_")]
        inv = np.array([1000 / (r["T [degC]"] + 273.15) for r in runs])
        ax.semilogy(inv, [max(r["rate [nm^3/h]"], 1e-12) for r in runs], "o", color=colour,
                    label=f"{phase}: model, E_a = {fits[phase][0]:.3f} eV")
        ax.semilogy(inv, [r["Casu serial [nm^3/h]"] for r in runs], "-", color=colour, lw=1,
                    label=f"{phase}: Casu f P_CE, one entry point")
    ax.axhline(V_VISIBLE, color="0.5", ls=":", lw=1)
    ax.text(ax.get_xlim()[0], V_VISIBLE, " visible in 1 h (1000 nm$^3$)", fontsize=8,
            va="bottom", color="0.35")
    ax.set_xlabel("1000 / T [1/K]")
    ax.set_ylabel("exchange rate [nm$^3$/h]")
    ax.set_ylim(1e-6, 1e9)
    ax.set_title(f"40 nm CdSe wire, one donor entry point (make_front_figures.py, "
                 f"{datetime.date.today()})", fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(HERE / "front_arrhenius.png", dpi=120)
    plt.close(fig)


def plot_diameter(table: list[dict]) -> None:
    plt = _pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for r in table:
        if r["study"].startswith("diameter_"):
            ax = a2 if "band" in r["study"] else a1
            rows = r["_rows"]
            v0 = rows[0]["exchanged_volume [nm^3]"]
            ax.plot([x["time [s]"] / 3600 for x in rows],
                    [x["exchanged_volume [nm^3]"] - v0 for x in rows],
                    label=f"{r['diameter [nm]']} nm: {r['rate [nm^3/h]']:.3g} nm$^3$/h")
    a1.set_title("one entry point at the tip (the parameter set)", fontsize=9)
    a2.set_title("contrast: a side-band contact (every site an entry site)", fontsize=9)
    for ax in (a1, a2):
        ax.set_xlabel("time at 400 °C [h]")
        ax.set_ylabel("exchanged volume gained [nm$^3$]")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(HERE / "front_diameter.png", dpi=120)
    plt.close(fig)


def plot_maps(table: list[dict]) -> None:
    plt = _pyplot()
    folder = next(r["_folder"] for r in table if r["study"] == "maps")
    fig, axes = plt.subplots(len(MAP_TIMES), 1, figsize=(8, 1.4 * len(MAP_TIMES)), sharex=True)
    for ax, t in zip(axes, MAP_TIMES):
        data = np.load(folder / "snapshots" / f"composition_t{t:.6g}s.npz")
        z, r, X = data["z"], data["r"], data["X"]
        sel = z > 250
        full_r = np.concatenate([-r[::-1], r])
        full = np.concatenate([X[sel][:, ::-1], X[sel]], axis=1)
        m = ax.pcolormesh(z[sel], full_r, full.T, vmin=0, vmax=1, cmap="viridis",
                          shading="auto")
        ax.set_aspect("equal")
        ax.set_ylabel("r [nm]")
        ax.set_title(f"t = {t / 60:g} min", fontsize=8, loc="left")
    axes[-1].set_xlabel("z [nm] (donor entry point at the tip, z = 350 nm)")
    fig.colorbar(m, ax=axes, label="X (0 CdSe, 1 Cu$_2$Se)", shrink=0.6)
    fig.suptitle("wurtzite, 400 °C, 40 nm wire: the seed cap under the entry point flattens "
                 "within minutes\n(the zone width acts as a capillary length), then a planar "
                 f"front; no thorn (make_front_figures.py, {datetime.date.today()})", fontsize=8)
    fig.savefig(HERE / "front_maps.png", dpi=120)
    plt.close(fig)


def plot_less_cu(table: list[dict]) -> None:
    plt = _pyplot()
    runs = sorted((r for r in table if r["study"].startswith("less_cu")
                   or r["study"] == "onset_wurtzite_400C"), key=lambda r: -r["entry sites"])
    fig, ax = plt.subplots(figsize=(7, 3.8))
    names = [r["study"].replace("onset_wurtzite_400C", "one donor, one entry site")
             .replace("less_cu_", "").replace("_", " ") + f"\n({r['entry sites']:.3g} sites)"
             for r in runs]
    ax.bar(range(len(runs)), [r["rate [nm^3/h]"] for r in runs], color="tab:blue",
           label="model")
    ax.plot(range(len(runs)), [r["Casu serial [nm^3/h]"] for r in runs], "k_", ms=30,
            label="Casu serial, same sites")
    ax.set_xticks(range(len(runs)), names, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("rate at 400 °C [nm$^3$/h]")
    ax.set_xlabel("less Cu: fewer entry sites (smaller contacts, fewer donors) →", fontsize=8)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(HERE / "front_less_cu.png", dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "results" / "front"))
    parser.add_argument("--collect", action="store_true", help="summarise finished runs only")
    parser.add_argument("--only", nargs="*", default=None,
                        help="run only the studies whose names start with these, then summarise")
    args = parser.parse_args()
    out_root = Path(args.out)
    if not args.collect:  # one run at a time, each in a fresh process (own PETSc state)
        for st in STUDIES:
            if args.only is not None and not st["name"].startswith(tuple(args.only)):
                continue
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                print("done:", pool.submit(run_one, st, str(out_root)).result(), flush=True)
    table = summarise(out_root)
    fits = {p: arrhenius(table, p) for p in CASES}
    plot_arrhenius(table, fits)
    plot_diameter(table)
    plot_maps(table)
    plot_less_cu(table)
    keys = [k for k in table[0] if not k.startswith("_")]
    with (HERE / "front_runs.csv").open("w", newline="") as f:
        f.write(f"# make_front_figures.py, run {datetime.date.today()}\n")
        w = csv.DictWriter(f, keys)
        w.writeheader()
        w.writerows([{k: r[k] for k in keys} for r in table])
    for r in table:
        print({k: (f"{r[k]:.4g}" if isinstance(r[k], float) else r[k]) for k in keys})
    for p, (ea, _, t_on) in fits.items():
        print(f"{p}: apparent E_a = {ea:.3f} eV; onset (V >= {V_VISIBLE:g} nm^3 in 1 h): grid "
              f"{onset_grid(table, p)} degC, Arrhenius {t_on - 273.15:.0f} degC")


if __name__ == "__main__":
    main()

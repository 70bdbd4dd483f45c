"""PbS -> CdS core@shell growth of a nanocrystal in a Cd bath (Han, Yao & Robinson, Acc. Chem.
Res. 2021; issue 13): shell thickness against time at three bath temperatures and the apparent
activation energy the model gives.

Runs ``cases/robinson2021_pbs_cds_sphere.yaml`` (8 nm PbS sphere, 0.1 mol/L Cd bath, 2 h) at
150, 175 and 200 degC with the reaction zone narrowed to 0.1 nm (mesh 0.05 nm): the zone is a
smeared interface that adds about 2 zone widths to the diffusion-limited shell
(tests/verification/test_front_kinetics.py), 0.2 nm here. Only the temperature, the zone and the
mesh are changed; fields are written for the 175 degC run only (for its EELS map).

Apparent diffusion coefficient: the quasi-steady shrinking core gives
g(xi) = 1 - 3 xi^2 + 2 xi^3 = 6 D_eff t / R^2 with xi = 1 - s/R, s the shell holding the exchanged
volume; D_eff is the least-squares slope of g against t (rows with 0.02 < g < 0.9, after the
first 5 % of the run) times R^2/6. The apparent activation energy is the slope of ln D_eff
against 1/T over the three temperatures. It is compared with the input D_i c_b (the material
files: 1e4 x Shaw's Cd self-diffusion in CdS, 1.85 eV = 178.5 kJ/mol) and the brief's
160-180 kJ/mol.

Usage:  .venv/bin/python docs/figures/make_nanocrystal_figures.py [--out results/nanocrystal]
        [--collect]
Writes docs/figures/nanocrystal_shell.csv, nanocrystal_shell.png, nanocrystal_eels.png and prints
the table (run date and wall times in the CSV).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import shutil
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from ecx_device.units import AVOGADRO, BOLTZMANN

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CASE = ROOT / "cases" / "robinson2021_pbs_cds_sphere.yaml"
TEMPERATURES_C = (150, 175, 200)
EELS_AT = 175
R_NM = 4.0
GAS_CONSTANT = BOLTZMANN * AVOGADRO  # J/(mol K)


def run_one(t_celsius: int, out_root: str) -> str:
    """One run (in a fresh worker process); returns its folder."""
    from ecx_device.case.loader import read_yaml, validate_case
    from ecx_device.runs.simulation import Simulation

    data = read_yaml(CASE)
    data["name"] = f"{data['name']}_{t_celsius}C"
    data["thermal"]["heat_sink_temperature"] = f"{t_celsius} degC"
    data["geometry"]["particle"].update(mesh_size="0.05 nm", contact_mesh_size="0.05 nm")
    data["exchange"]["reaction_zone_width"] = "0.1 nm"
    fields = t_celsius == EELS_AT
    data["outputs"] = {"fields": fields, "plots": False}
    data["exchange"]["snapshot_times"] = []
    case = validate_case(data, source=f"{CASE.name} at {t_celsius} degC")
    out = Path(out_root) / f"sphere_{t_celsius}C"
    Simulation(case, out, overwrite=True, log=None).run()
    return str(out)


def read_rows(folder: Path) -> list[dict[str, float]]:
    with (folder / "timeseries.csv").open() as f:
        return [{k: float(v) if v else math.nan for k, v in r.items()} for r in csv.DictReader(f)]


def input_deff(T: float) -> float:
    """D_i c_b of the material data at T (m^2/s)."""
    from ecx_device.materials import load_material

    shell, host = load_material("CdS_zincblende"), load_material("PbS")
    c_b = float(host("bath_partition_coefficient", T)) * 100.0 * AVOGADRO / float(
        host("sulfur_site_density", T))
    return float(shell("cu_ion_diffusivity", T)) * c_b


def fit_deff(rows: list[dict[str, float]]) -> float:
    """D_eff (m^2/s) from the shrinking-core function of the exchanged volume (module doc)."""
    t = np.array([r["time [s]"] for r in rows])
    s = np.array([r["shell_thickness [nm]"] for r in rows])
    xi = 1 - s / R_NM
    g = 1 - 3 * xi**2 + 2 * xi**3
    use = (g > 0.02) & (g < 0.9) & (t > 0.05 * t[-1])
    slope = np.polyfit(t[use], g[use], 1)[0]
    return slope * (R_NM * 1e-9) ** 2 / 6


def summarise(out_root: Path) -> list[dict]:
    table = []
    for tc in TEMPERATURES_C:
        folder = out_root / f"sphere_{tc}C"
        rows = read_rows(folder)
        res = json.loads((folder / "results.json").read_text())
        T = tc + 273.15
        table.append({"T [degC]": tc, "D_eff model [m^2/s]": fit_deff(rows),
                      "D_eff input [m^2/s]": input_deff(T),
                      "shell at 1 h [nm]": float(np.interp(3600, [r["time [s]"] for r in rows],
                                                           [r["shell_thickness [nm]"]
                                                            for r in rows])),
                      "shell at 2 h [nm]": rows[-1]["shell_thickness [nm]"],
                      "exchanged fraction at 2 h": rows[-1]["exchanged_fraction [-]"],
                      "steps": res["steps"], "wall [s]": res["wall_time [s]"],
                      "_rows": rows})
    return table


def exact_shell(s0: float, d_eff: float, t: np.ndarray) -> np.ndarray:
    """Quasi-steady shrinking-core shell (nm) from s0 (nm) at t = 0 with D_eff (m^2/s)."""
    from scipy.optimize import brentq

    def g(xi):
        return 1 - 3 * xi**2 + 2 * xi**3

    g_t = g(1 - s0 / R_NM) + 6 * d_eff * t / (R_NM * 1e-9) ** 2
    return np.array([R_NM if v >= 1 else R_NM * (1 - brentq(lambda x: g(x) - v, 0, 1))
                     for v in g_t])


def activation_energy(table: list[dict], key: str) -> float:
    """Slope of ln D against 1/T (kJ/mol)."""
    inv = np.array([1 / (r["T [degC]"] + 273.15) for r in table])
    lnd = np.log([r[key] for r in table])
    return -np.polyfit(inv, lnd, 1)[0] * GAS_CONSTANT / 1e3


def plot(table: list[dict], ea_model: float, ea_input: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for r in table:
        rows = r["_rows"]
        t = np.array([x["time [s]"] for x in rows])
        line, = a1.plot(t / 3600, [x["shell_thickness [nm]"] for x in rows],
                        label=f"{r['T [degC]']} °C")
        a1.plot(t / 3600, exact_shell(rows[0]["shell_thickness [nm]"], r["D_eff input [m^2/s]"],
                                      t), ls="--", lw=1, color=line.get_color())
    a1.plot([], [], "k--", lw=1, label="exact shrinking core, input D_i c_b")
    a1.set_xlabel("time in the bath [h]")
    a1.set_ylabel("CdS shell thickness [nm]")
    a1.set_title("8 nm PbS sphere, 0.1 mol/L Cd; shell holding the exchanged volume",
                  fontsize=9)
    a1.legend(fontsize=8)
    inv = [1000 / (r["T [degC]"] + 273.15) for r in table]
    a2.semilogy(inv, [r["D_eff model [m^2/s]"] for r in table], "o-",
                label=f"model (shrinking-core fit): {ea_model:.0f} kJ/mol")
    a2.semilogy(inv, [r["D_eff input [m^2/s]"] for r in table], "s--",
                label=f"input D_i c_b: {ea_input:.0f} kJ/mol")
    a2.set_xlabel("1000 / T [1/K]")
    a2.set_ylabel("effective diffusion coefficient [m$^2$/s]")
    a2.set_title("apparent activation energy (Han et al.: 160-180 kJ/mol)")
    a2.legend(fontsize=8)
    fig.suptitle(f"PbS -> CdS exchange, front kinetics (make_nanocrystal_figures.py, "
                 f"{datetime.date.today()})", fontsize=9)
    fig.tight_layout()
    path = HERE / "nanocrystal_shell.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "results" / "nanocrystal"))
    parser.add_argument("--collect", action="store_true", help="summarise finished runs only")
    args = parser.parse_args()
    out_root = Path(args.out)
    if not args.collect:  # one run at a time, each in a fresh process (own PETSc state)
        for tc in TEMPERATURES_C:
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                print("done:", pool.submit(run_one, tc, str(out_root)).result(), flush=True)
    table = summarise(out_root)
    ea_model = activation_energy(table, "D_eff model [m^2/s]")
    ea_input = activation_energy(table, "D_eff input [m^2/s]")
    plot(table, ea_model, ea_input)
    from ecx_device.outputs.eels import eels_for_run

    files = eels_for_run(out_root / f"sphere_{EELS_AT}C", None, "x", 0.1)
    shutil.copy(next(f for f in files if f.name == "eels_overlay.png"),
                HERE / "nanocrystal_eels.png")
    keys = [k for k in table[0] if not k.startswith("_")]
    with (HERE / "nanocrystal_shell.csv").open("w", newline="") as f:
        f.write(f"# make_nanocrystal_figures.py, run {datetime.date.today()}; apparent "
                f"activation energy: model {ea_model:.1f} kJ/mol, input {ea_input:.1f} kJ/mol\n")
        w = csv.DictWriter(f, keys)
        w.writeheader()
        w.writerows([{k: r[k] for k in keys} for r in table])
    for r in table:
        print({k: (f"{r[k]:.4g}" if isinstance(r[k], float) else r[k]) for k in keys})
    print(f"apparent activation energy: model {ea_model:.1f} kJ/mol "
          f"({ea_model / 96.485:.3f} eV), input {ea_input:.1f} kJ/mol")


if __name__ == "__main__":
    main()

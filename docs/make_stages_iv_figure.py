"""Regenerate docs/figures/stages_iv.png and stages_iv.csv: the I-V curves of Zhang et al.'s
stages (a)-(d) with the drift-diffusion wire model and one parameter set (docs/validation.md).

Usage:
    .venv/bin/python docs/make_stages_iv_figure.py              # runs the four sweeps (~2.5 min)
    .venv/bin/python docs/make_stages_iv_figure.py --from DIR   # reads DIR/stage_X/iv.csv

The four cases are cases/zhang2017_stage_{a,b,c,d}_dd.yaml at full resolution, -1..+1 V in 0.1 V
steps, self-heated (the third panel: the peak wire temperature rise). The current plotted is the
one through the grounded W terminal (``cathode_current``),
which the reaction flux resolves to round-off; the Cu terminal's is resolved only to
``current_resolution`` (docs/model.md 5a.3), which matters for the tiny currents of (b), (c).
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ecx_device.case import load_case  # noqa: E402
from ecx_device.outputs.quantities import read_series  # noqa: E402
from ecx_device.runs.simulation import Simulation  # noqa: E402

ROOT = Path(__file__).parents[1]
STAGES = {"a": "pristine CdS (two Schottky contacts)",
          "b": "5 nm Cu2S shell to z = 200 nm, open at W",
          "c": "shell to the W end, open at W (core touches W)",
          "d": "shell closed at both ends"}
COLUMNS = ("bias [V]", "current [A]", "cathode_current [A]", "current_resolution [A]",
           "current_mismatch [-]", "max_cell_potential_step [V_T]", "wire_T_max [K]",
           "wire_T_max_axial_position [nm]", "power_balance_error [-]",
           "electrothermal_iterations [-]")
PARAMETERS = ("one parameter set, heat sink 300 K, self-heated (docs/model.md 5a.12): "
              "CdS N_D = 5e17 cm^-3, mu_n = 10, mu_p = 1.2 "
              "cm^2/(V s), chi = 4.5 eV, E_g = 2.42 eV, eps = 8.9;\nCu2S N_A = 1e20 cm^-3, "
              "mu_n = mu_p = 5 cm^2/(V s), chi = 4.2 eV, E_g = 1.2 eV, eps = 10, m_e* = 0.5, "
              "m_h* = 1.0; Cu/CdS 0.50 eV, W/CdS 0.45 eV, Cu/Cu2S and W/Cu2S ohmic;\n"
              "d = 40 nm, L = 300 nm free + 50 nm in Cu, shell 5 nm, no image force or "
              "tunnelling, Boltzmann statistics")


def sweeps(source: Path | None) -> dict[str, list[dict[str, float]]]:
    """Stage -> rows of its iv.csv, from ``source`` or from fresh runs."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for stage in STAGES:
            folder = (source or Path(tmp)) / f"stage_{stage}"
            if source is None:
                case = load_case(ROOT / "cases" / f"zhang2017_stage_{stage}_dd.yaml")
                Simulation(case, folder, log=print).run_iv()
            out[stage] = read_series(folder / "iv.csv")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, default=None,
                        help="folder with stage_a..stage_d run folders (iv.csv each)")
    data = sweeps(parser.parse_args().source)
    figures = ROOT / "docs" / "figures"
    with (figures / "stages_iv.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("stage", *COLUMNS))
        for stage, rows in data.items():
            for r in rows:
                writer.writerow((stage, *(f"{r[c]:.6g}" if c in r else "" for c in COLUMNS)))
    fig, (lin, log, hot) = plt.subplots(1, 3, figsize=(15, 5.2))
    floor = 0.0
    for k, (stage, rows) in enumerate(data.items()):
        v = [r["bias [V]"] for r in rows]
        i = [r["cathode_current [A]"] for r in rows]
        # a current below the round-off resolution of the reaction flux is not resolved: drawn
        # as an open marker (it only bounds the true current)
        ok = [abs(x) > r["current_resolution [A]"] for x, r in zip(i, rows, strict=True)]
        floor = max(floor, *(r["current_resolution [A]"] for r in rows))
        scale = max(abs(x) for x in i)
        color = f"C{k}"
        lin.plot(v, [x / scale for x in i], "-", color=color,
                 label=f"({stage}) {STAGES[stage]}; max |I| = {scale:.3g} A")
        log.semilogy(v, [abs(x) for x in i], "-", color=color, label=f"({stage})")
        if all("wire_T_max [K]" in r for r in rows):
            hot.plot(v, [r["wire_T_max [K]"] - 300.0 for r in rows], "o-", ms=3, color=color,
                     label=f"({stage}) max rise "
                           f"{max(r['wire_T_max [K]'] for r in rows) - 300.0:.2g} K")
        for axis, values in ((lin, [x / scale for x in i]), (log, [abs(x) for x in i])):
            axis.plot([a for a, g in zip(v, ok, strict=True) if g],
                      [b for b, g in zip(values, ok, strict=True) if g], "o", ms=4, color=color)
            axis.plot([a for a, g in zip(v, ok, strict=True) if not g],
                      [b for b, g in zip(values, ok, strict=True) if not g], "o", ms=5,
                      mfc="white", color=color)
    log.axhline(floor, color="0.4", ls=":", lw=1)
    log.text(-0.95, floor * 3, "largest round-off resolution of a stage's current "
             "(open markers: below their stage's resolution)", fontsize=6.5, color="0.3")
    log.set_ylim(1e-32, 1e-3)  # the 0 V points (1e-31 .. 1e-46 A) are round-off
    lin.set_xlabel("bias of Cu against W [V]")
    lin.set_ylabel("I / max|I| of the stage (linear)")
    lin.axhline(0, color="0.6", lw=0.5)
    lin.legend(fontsize=7, loc="upper left")
    log.set_xlabel("bias of Cu against W [V]")
    log.set_ylabel("|I| [A] (W terminal)")
    log.legend(fontsize=8)
    log.grid(True, which="major", alpha=0.3)
    hot.set_xlabel("bias of Cu against W [V]")
    hot.set_ylabel("peak wire temperature rise T_max - 300 K [K]")
    hot.set_yscale("symlog", linthresh=1e-8)  # (a)-(c) rise by < 1e-6 K
    hot.legend(fontsize=8)
    hot.grid(True, alpha=0.3)
    fig.suptitle("Zhang et al. 2017 stages, drift-diffusion wire with prescribed composition",
                 fontsize=10)
    fig.text(0.01, 0.01, PARAMETERS, fontsize=6.5, va="bottom")
    fig.tight_layout(rect=(0, 0.09, 1, 0.96))
    path = figures / "stages_iv.png"
    fig.savefig(path, dpi=130)
    print(f"wrote {path} and {figures / 'stages_iv.csv'}")


if __name__ == "__main__":
    main()

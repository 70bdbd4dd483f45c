"""Regenerate the figures of docs/validation.md (stage 1, ohmic electro-thermal model).

Usage: .venv/bin/python docs/make_stage1_figures.py

Runs the default case, the prescribed-shell case and the shell case with reversed polarity at
their full resolution on the ohmic electro-thermal model (P2, no exchange dynamics; the default
case itself runs the drift-diffusion wire with exchange), plots the temperature along the wire
axis at the final bias and prints the table of docs/validation.md with the date.
"""

from __future__ import annotations

import csv
import datetime
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ecx_device.case import load_case  # noqa: E402
from ecx_device.runs.simulation import Simulation  # noqa: E402

ROOT = Path(__file__).parents[1]


def _ohmic(case, polarity: str):
    """``case`` on the ohmic wire at P2, steady (no exchange), with ``polarity``."""
    return case.model_copy(update={
        "bias": case.bias.model_copy(update={"polarity": polarity}),
        "electrical": case.electrical.model_copy(update={"wire_model": "ohmic"}),
        "exchange": case.exchange.model_copy(update={"enabled": False}),
        "solver": case.solver.model_copy(update={"element_degree": 2})})


def main() -> None:
    runs = [("zhang2017_1V.yaml", "cu_positive", "pristine CdS, +1 V"),
            ("zhang2017_1V_shell.yaml", "cu_positive", "5 nm Cu2S shell to z = 200 nm, +1 V"),
            ("zhang2017_1V_shell.yaml", "w_positive", "same shell, reversed (-1 V)")]
    fig, ax = plt.subplots(figsize=(7, 5))
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, polarity, label) in enumerate(runs):
            case = _ohmic(load_case(ROOT / "cases" / name), polarity)
            out = Path(tmp) / f"run{i}"
            final = Simulation(case, out, log=None).run().final
            print(f"| {name} ({polarity}) | {final['bias [V]']:+.1f} V | "
                  f"{final['current [A]'] * 1e6:.3f} µA | {final['wire_T_max [K]']:.1f} K | "
                  f"{final['wire_T_max_axial_position [nm]']:.0f} nm |")
            with (out / "axial_profile.csv").open() as f:
                rows = list(csv.DictReader(f))
            z = [float(r["z [nm]"]) for r in rows]
            T = [float(r["temperature [K]"]) for r in rows]
            ax.plot(z, T, ls=["-", "-", "--"][i],
                    label=f"{label}: I = {final['current [A]'] * 1e6:.3g} µA, "
                          f"T_max = {final['wire_T_max [K]']:.1f} K")
    ax.axvspan(-150, 0, color="tab:orange", alpha=0.1)
    ax.text(-140, ax.get_ylim()[1] - 0.5, "Cu", va="top")
    ax.axvline(300, color="0.5", ls=":")
    ax.text(305, ax.get_ylim()[1] - 0.5, "W contact", va="top")
    ax.set_xlabel("z along the wire axis [nm]")
    ax.set_ylabel("temperature [K]")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1)
    fig.tight_layout()
    path = ROOT / "docs" / "figures" / "stage1_temperature_axis.png"
    fig.savefig(path, dpi=130)
    print(f"wrote {path} on {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()

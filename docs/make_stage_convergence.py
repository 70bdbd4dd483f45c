"""Mesh convergence of the stage (b) and (c) I-V sweeps (issue 14): the shipped mesh against one
refinement, for docs/validation.md.

Usage: .venv/bin/python docs/make_stage_convergence.py [--out DIR] [--from DIR]
           [--flux eafe|galerkin] [--contact-depth NM] [--start V] [STAGE ...]
       (default stages b c; --out: where the sweeps go, default results/stage_convergence;
       --from: read the sweeps already in DIR instead of running them; --flux: the carrier
       fluxes, solver.carrier_flux, default the case's; --contact-depth: a variant with the W
       apex pressed NM nm into the end face instead of the case's w_tip.contact_depth; --start:
       the sweep starts at V volts instead of the case's iv.start)

For each stage the case's `ecx-device iv` sweep (cases/zhang2017_stage_<s>_dd.yaml, as shipped:
-1...+1 V in 0.1 V steps, self-heated, default solver settings) runs twice: on the shipped mesh
and with all mesh sizes (wire, contact, metal, front; the thermal contact layer's thickness too)
halved, i.e. gmsh re-meshes with half the sizes (about four times the cells; not a nested
refinement). The table compares the currents
through the grounded W terminal (resolved to round-off) at every bias where both sweeps resolve the
current (|I| above the sweep's `current_resolution [A]`, the round-off limit of the biased
terminal's reaction flux, and the anode and cathode currents agree there), and states the goal of
issue 14: a change below 1 %. Wall and CPU time of each sweep (this process's) are printed with
the load average. Writes <out>/stage_convergence.md (markdown) and prints it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from ecx_device.case import load_case
from ecx_device.outputs.quantities import read_series
from ecx_device.runs.simulation import Simulation

ROOT = Path(__file__).resolve().parents[1]
GOAL = 0.01
READ_ONLY = "--from" in sys.argv


def refined(case):
    """The case with every mesh size halved (the front size too, where the case sets one, and
    the thermal contact layer, which may not be thicker than the contact size)."""
    m = case.geometry.mesh
    sizes = ("wire_size", "contact_size", "metal_size", "front_size", "contact_layer_thickness")
    mesh = m.model_copy(update={k: getattr(m, k) / 2 for k in sizes
                                if getattr(m, k) is not None})
    return case.model_copy(update={"geometry": case.geometry.model_copy(update={"mesh": mesh})})


def variant(case, flux: str | None, options: dict):
    """The case with the command line's carrier fluxes, W contact depth (nm) and sweep start
    (V), set through the case loader (units as in a case file)."""
    settings = {}
    if flux is not None:
        settings["solver.carrier_flux"] = flux
    if "--contact-depth" in options:
        settings["geometry.w_tip.contact_depth"] = f"{options['--contact-depth']} nm"
    if "--start" in options:
        settings["iv.start"] = f"{options['--start']} V"
    return case.replace(settings) if settings else case


def sweep(case, folder: Path) -> tuple[list[dict], dict]:
    """Run (or read, with ``--from``) one iv sweep; its rows and timing."""
    if READ_ONLY and (folder / "iv.csv").exists():
        return read_series(folder / "iv.csv"), {}
    out = case.outputs.model_copy(update={"fields": False, "plots": False})
    case = case.model_copy(update={"outputs": out})
    load0, cpu0, wall0 = os.getloadavg()[0], time.process_time(), time.perf_counter()
    rows = Simulation(case, folder, log=None).run_iv().rows
    timing = {"cpu": time.process_time() - cpu0, "wall": time.perf_counter() - wall0,
              "load": (load0 + os.getloadavg()[0]) / 2}
    return rows, timing


def table(stage: str, coarse: list[dict], fine: list[dict]) -> tuple[list[str], float]:
    """Markdown rows for one stage and the largest resolved relative change."""
    lines, worst = [], 0.0
    for a, b in zip(coarse, fine, strict=True):
        v = a["bias [V]"]
        ia, ib = a["cathode_current [A]"], b["cathode_current [A]"]
        floor = max(a["current_resolution [A]"], b["current_resolution [A]"])
        resolved = min(abs(ia), abs(ib)) > floor
        change = abs(ib / ia - 1) if resolved else float("nan")
        if resolved:
            worst = max(worst, change)
        lines.append(f"| ({stage}) | {v:+.1f} | {ia:.4e} | {ib:.4e} | "
                     + (f"{100 * change:.3f} %" if resolved else f"below {floor:.1e} A") + " |")
    return lines, worst


def main() -> None:
    args = sys.argv[1:]
    out = ROOT / "results" / "stage_convergence"
    options = {}
    for flag in ("--out", "--from", "--flux", "--contact-depth", "--start"):
        if flag in args:
            k = args.index(flag)
            options[flag] = args[k + 1]
            del args[k:k + 2]
    out = Path(options.get("--out", options.get("--from", out)))
    flux = options.get("--flux")
    stages = args or ["b", "c"]
    flags = "".join(f" {k} {v}" for k, v in options.items() if k not in ("--out", "--from"))
    lines = [f"Run {time.strftime('%Y-%m-%d')} (`docs/make_stage_convergence.py{flags}`), "
             "current through the grounded W terminal:", "",
             "| stage | V [V] | I shipped mesh [A] | I sizes halved [A] | change |",
             "|---|---|---|---|---|"]
    notes = []
    for stage in stages:
        case = load_case(ROOT / "cases" / f"zhang2017_stage_{stage}_dd.yaml")
        case = variant(case, flux, options)
        tag = f"{stage}_{case.solver.carrier_flux}"
        if "--contact-depth" in options:
            tag += f"_depth{options['--contact-depth']}nm"
        coarse, tc = sweep(case, out / f"{tag}_shipped")
        fine, tf = sweep(refined(case), out / f"{tag}_halved")
        rows, worst = table(stage, coarse, fine)
        lines += rows
        verdict = "met" if worst < GOAL else "NOT met"
        timing = "".join(f"; {name} sweep {t['cpu']:.0f} s CPU / {t['wall']:.0f} s wall (load "
                         f"{t['load']:.1f})" for name, t in (("shipped", tc), ("halved", tf))
                         if t)
        notes.append(f"- ({stage}): largest change at a resolved bias {100 * worst:.3f} % "
                     f"(goal < {100 * GOAL:.0f} %: {verdict}){timing}.")
    text = "\n".join(lines + [""] + notes) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"stage_convergence{'_' + flux if flux else ''}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()

"""Why the thermal (Casu) cases crawl: the ion step's line search and the step control.

The split ion step (every case without the drift-diffusion wire, e.g. the thermal variant) runs
PETSc's VI Newton with a backtracking line search. On the wurtzite CdSe wire at 400 degC the
search cuts each Newton step to lambda ~ 0.1 for ~10 iterations before the full step converges
quadratically; a step that takes more than ``easy_iterations`` Newton iterations never grows, so
the time step freezes at ~0.4 s. With full Newton steps (``snes_linesearch_type: basic``) it
converges in 2-3 iterations and the step grows, but then nothing but the per-node X change
(``exchange.max_fraction_change``) limits it, and that is no error control: the answer moves by
a few per cent. This benchmark prints both against a reference with small steps.

    .venv/bin/python benchmarks/bench_ion_step_control.py [--hold "60 s"] [--out DIR]

Prints one row per variant: steps, rejected steps, wall time, exchanged fraction X after the
hold, and X's relative deviation from the reference (max_time_step 0.1 s, default search).
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CASE = "casu2023_wurtzite"
CELSIUS = 400.0

#: name -> (ion-step PETSc options, exchange.max_time_step or None)
VARIANTS = {
    "reference (backtracking, dt <= 0.1 s)": ({}, "0.1 s"),
    "default (backtracking)": ({}, None),
    "full Newton steps": ({"snes_linesearch_type": "basic"}, None),
    "full Newton steps, dt <= 0.5 s": ({"snes_linesearch_type": "basic"}, "0.5 s"),
}


def variant_case(hold: str, options: dict, max_step: str | None) -> dict:
    """The thermal case at 400 degC held for ``hold``, without fields, plots or snapshots."""
    data = yaml.safe_load((ROOT / "cases" / f"{CASE}.yaml").read_text())
    data = copy.deepcopy(data)
    data["outputs"] = {"fields": False, "plots": False}
    data["thermal"]["heat_sink_temperature"] = f"{CELSIUS} degC"
    data["bias"]["protocol"] = [{"type": "hold", "voltage": "0 V", "duration": hold}]
    data["exchange"]["snapshot_times"] = []
    data.setdefault("solver", {})["petsc_options"] = options
    if max_step is not None:
        data["exchange"]["max_time_step"] = max_step
    data["name"] = "step_control"
    return data


def run(data: dict, folder: Path) -> dict:
    """Run one variant with the CLI; its results.json plus the wall time (s)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "case.yaml").write_text(yaml.safe_dump(data))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ecx_device", "run", str(folder / "case.yaml"), "--out",
                    str(folder / "run"), "--overwrite"], check=True, capture_output=True)
    wall = time.perf_counter() - t0
    return {**json.loads((folder / "run" / "results.json").read_text()), "wall": wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hold", default="60 s", help="simulated hold at 0 V (default 60 s)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_ion_step_control")
    args = parser.parse_args(argv)
    rows = {}
    for k, (name, (options, max_step)) in enumerate(VARIANTS.items()):
        rows[name] = run(variant_case(args.hold, options, max_step), args.out / f"variant{k}")
    ref = rows[next(iter(VARIANTS))]["final"]["exchanged_fraction [-]"]
    print(f"{CASE} at {CELSIUS:g} degC, {args.hold} hold")
    print(f"{'variant':<40} {'steps':>6} {'rejected':>8} {'wall [s]':>9} {'X [-]':>10} "
          f"{'dX/X_ref':>9}")
    for name, r in rows.items():
        x = r["final"]["exchanged_fraction [-]"]
        print(f"{name:<40} {r['steps']:>6d} {r['rejected_steps']:>8d} {r['wall']:>9.1f} "
              f"{x:>10.5f} {x / ref - 1:>+9.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

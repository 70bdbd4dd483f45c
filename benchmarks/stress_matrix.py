"""Stress matrix of the exchange solver (issue 16): every cell must finish (exit 0) or stop with
exit 3 and a physical reason (thermal runaway with its temperature, or full conversion reached
early). "Newton did not converge" is not a reason: such a cell is counted as FAILED. A cell that
exits 0 but whose report warns that anode and cathode currents differ or that a balance does not
close is counted as "finished, flagged", and the script then exits 1 too.

Cells (each a run of a shipped case with a few keys changed, as ``ecx-device run`` in a
subprocess):

- the default case (zhang2017_1V) with every shipped anode metal x biases {0.1, 0.35, 0.5, 1, 2,
  5} V (a 1 ms ramp, then a hold) x heat-sink temperature {300, 500} K, on the 1D and the
  axisymmetric geometry;
- the thermal cases (casu2023_*) at 125, 250 and 400 degC;
- the default case with wire diameters of 10 and 80 nm.

    .venv/bin/python benchmarks/stress_matrix.py                      # the whole matrix
    .venv/bin/python benchmarks/stress_matrix.py --reduced --smoke    # the CI subset
    .venv/bin/python benchmarks/stress_matrix.py --hold "10 ms" --dims 1d --jobs 2
    .venv/bin/python benchmarks/stress_matrix.py --dims 1d --sinks 500 --biases 1 \
        --hold "0.1 s" --no-extras                                    # the anode check

The anode check (docs/validation.md, "Anode check"): every anode metal at 1 V, 500 K, 1D, with
the exchanged fraction and the mobile ions left in the wire at the end.

Prints one row per cell (outcome, exit code, steps, rejected steps, wall time, T_max, exchanged
fraction, mobile ions left in the wire, reason), the total wall time and the slowest cell;
writes the table as CSV into --out.
"""

from __future__ import annotations

import argparse
import copy
import csv
import itertools
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ecx_device.outputs.report import result_warnings

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"
DEFAULT_CASE = "zhang2017_1V"
THERMAL_CASES = ("casu2023_wurtzite", "casu2023_zincblende", "casu2023_front_wurtzite",
                 "casu2023_front_zincblende")
BIASES = (0.1, 0.35, 0.5, 1.0, 2.0, 5.0)
SINK_TEMPERATURES = (300.0, 500.0)
THERMAL_TEMPERATURES_C = (125.0, 250.0, 400.0)
DIAMETERS = (10.0, 80.0)
#: The CI subset: the strongest drives and the ones that broke the solver before (Al, Li).
REDUCED = (("Al", 1.0, 300.0, "1d"), ("Li", 5.0, 500.0, "1d"), ("Cu", 2.0, 500.0, "1d"),
           ("Al", 0.35, 300.0, "axisymmetric"))


@dataclass
class Cell:
    """One run of the matrix: a name and the case data to write."""

    name: str
    data: dict
    outcome: dict = field(default_factory=dict)


def _base(name: str) -> dict:
    data = yaml.safe_load((CASES / f"{name}.yaml").read_text())
    data["outputs"] = {"fields": False, "plots": False}
    data.setdefault("exchange", {})["snapshot_times"] = []
    data["exchange"].pop("iv_at_snapshots", None)
    data.pop("iv", None)
    return data


def anode_cell(metal: str, bias: float, sink: float, dim: str, hold: str) -> Cell:
    """The default case with ``metal`` as anode, ramped to ``bias`` (V) in 1 ms then held for
    ``hold``, heat sinks at ``sink`` (K), on geometry ``dim``."""
    data = copy.deepcopy(_base(DEFAULT_CASE))
    data["geometry"]["dimension"] = dim
    data["exchange"]["anode"] = metal
    data["bias"]["protocol"] = [
        {"type": "ramp", "start": "0 V", "stop": f"{bias} V", "duration": "1 ms", "points": 5},
        {"type": "hold", "voltage": f"{bias} V", "duration": hold}]
    data["thermal"]["heat_sink_temperature"] = f"{sink} K"
    data["name"] = f"stress_{metal}_{bias:g}V_{sink:g}K_{dim}"
    return Cell(data["name"], data)


def thermal_cell(case: str, celsius: float) -> Cell:
    """A thermal case with its grid at ``celsius`` (degC)."""
    data = copy.deepcopy(_base(case))
    data["thermal"]["heat_sink_temperature"] = f"{celsius} degC"
    data["name"] = f"stress_{case}_{celsius:g}C"
    return Cell(data["name"], data)


def diameter_cell(diameter: float, hold: str) -> Cell:
    """The default case with a wire of ``diameter`` (nm), its 1 V hold cut to ``hold``."""
    data = copy.deepcopy(_base(DEFAULT_CASE))
    data["geometry"]["wire"]["diameter"] = f"{diameter} nm"
    data["geometry"]["mesh"]["wire_size"] = f"{min(4.0, diameter / 5):g} nm"
    data["geometry"]["mesh"]["contact_size"] = f"{min(2.0, diameter / 10):g} nm"
    for seg in data["bias"]["protocol"]:
        if seg["type"] == "hold":
            seg["duration"] = hold
    data["name"] = f"stress_d{diameter:g}nm"
    return Cell(data["name"], data)


def matrix(args) -> list[Cell]:
    """The cells asked for on the command line."""
    if args.reduced:
        return [anode_cell(m, b, t, d, args.hold) for m, b, t, d in REDUCED]
    if args.only_extras:
        return ([thermal_cell(c, t) for c in THERMAL_CASES for t in THERMAL_TEMPERATURES_C]
                + [diameter_cell(d, args.hold) for d in DIAMETERS])
    from ecx_device.materials.database import available_anodes

    metals = args.metals or available_anodes()
    cells = [anode_cell(m, b, t, d, args.hold) for d, m, b, t in
             itertools.product(args.dims, metals, args.biases, args.sinks)]
    if args.extras:
        cells += [thermal_cell(c, t) for c in THERMAL_CASES for t in THERMAL_TEMPERATURES_C]
        cells += [diameter_cell(d, args.hold) for d in DIAMETERS]
    return cells


def run_cell(cell: Cell, out: Path, smoke: bool, timeout: float) -> dict:
    """Run one cell with the CLI; what happened (exit code, reason, counters, wall time)."""
    folder = out / cell.name
    folder.mkdir(parents=True, exist_ok=True)
    case = folder / "case.yaml"
    case.write_text(yaml.safe_dump(cell.data))
    cmd = [sys.executable, "-m", "ecx_device", "run", str(case), "--out", str(folder / "run"),
           "--overwrite"] + (["--smoke"] if smoke else [])
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:  # SIGTERM: the run stops cleanly and keeps its outputs
        proc.terminate()
        _, stderr = proc.communicate(timeout=120)
        # keep how the run ended: a clean stop exits 143 with a one-line message
        last = (stderr.strip().splitlines() or [""])[-1]
        code, stderr = None, f"wall-time limit of {timeout:g} s (exit {proc.returncode}: {last})"
    wall = time.perf_counter() - t0
    return {"cell": cell.name, "exit": code, "wall [s]": wall, **_read(folder / "run", code,
                                                                       stderr)}


def _from_timeseries(run: Path) -> dict:
    """What results.json would have said, from timeseries.csv (its first row is t = 0, each
    later row one step): for a run that ended without writing results.json."""
    path = run / "timeseries.csv"
    if not path.exists():
        return {}
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    last = rows[-1]
    return {"steps": len(rows) - 1,
            "rejected_steps": int(sum(float(r.get("rejected_steps [-]") or 0) for r in rows)),
            "simulated_time [s]": float(last["time [s]"]),
            "final": {k: float(last[k]) for k in
                      ("wire_T_max [K]", "exchanged_fraction [-]", "cu_mobile [-]")
                      if last.get(k) not in (None, "")}}


def _read(run: Path, code: int | None, stderr: str) -> dict:
    written = (run / "results.json").exists()
    results = json.loads((run / "results.json").read_text()) if written else _from_timeseries(run)
    report = json.loads((run / "failure_report.json").read_text()) \
        if (run / "failure_report.json").exists() else {}
    final = results.get("final", {})
    physical = report.get("physical_reason", "")
    # a finished run whose results fail the model's own checks (anode and cathode currents
    # that differ, balances that do not close) is not counted as clean
    flagged = result_warnings(run) if written else []
    if code == 0:
        outcome = "finished, flagged" if flagged else "finished"
    elif code == 3 and physical:
        outcome = "stopped (physical)"
    else:
        outcome = "FAILED"
    reason = (physical or report.get("message") or "; ".join(flagged)
              or (stderr.strip().splitlines() or [""])[-1])
    if not written and results:
        reason = f"no results.json (counters from timeseries.csv); {reason}"
    return {"outcome": outcome, "steps": results.get("steps"),
            "rejected": results.get("rejected_steps"),
            "simulated [s]": results.get("simulated_time [s]"),
            "T_max [K]": final.get("wire_T_max [K]"),
            "exchanged": final.get("exchanged_fraction [-]"),
            "mobile ions": final.get("cu_mobile [-]"), "reason": reason[:160]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reduced", action="store_true", help="the CI subset (REDUCED)")
    parser.add_argument("--smoke", action="store_true", help="run each cell with --smoke")
    parser.add_argument("--hold", default="1 s", help="hold after the 1 ms ramp (default 1 s)")
    parser.add_argument("--dims", nargs="+", default=["1d", "axisymmetric"])
    parser.add_argument("--metals", nargs="+", default=None)
    parser.add_argument("--sinks", nargs="+", type=float, default=list(SINK_TEMPERATURES),
                        help="heat-sink temperatures (K)")
    parser.add_argument("--biases", nargs="+", type=float, default=list(BIASES),
                        help="hold biases of the anode cells (V)")
    parser.add_argument("--no-extras", dest="extras", action="store_false",
                        help="only the anode cells (no thermal cases, no diameters)")
    parser.add_argument("--only-extras", action="store_true",
                        help="only the thermal cases and the diameters")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600.0, help="wall limit per cell (s)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "stress_matrix")
    args = parser.parse_args(argv)

    cells = matrix(args)
    print(f"stress matrix: {len(cells)} cells -> {args.out}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    table = args.out / "stress_matrix.csv"
    t0 = time.perf_counter()
    rows = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool, table.open("w", newline="") as f:
        futures = [pool.submit(run_cell, c, args.out, args.smoke, args.timeout) for c in cells]
        writer = None
        for future in as_completed(futures):  # each row as soon as its cell ends
            row = future.result()
            rows.append(row)
            print(_line(row), flush=True)
            if writer is None:
                writer = csv.DictWriter(f, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)
            f.flush()
    total = time.perf_counter() - t0
    slowest = max(rows, key=lambda r: r["wall [s]"])
    counts = {o: sum(r["outcome"] == o for r in rows)
              for o in ("finished", "finished, flagged", "stopped (physical)", "FAILED")}
    print(f"total wall time {total:.0f} s; slowest cell {slowest['cell']} "
          f"({slowest['wall [s]']:.0f} s); " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    return 1 if counts["FAILED"] or counts["finished, flagged"] else 0


def _line(r: dict) -> str:
    def fmt(v, spec):
        return "-" if v is None else format(v, spec)
    return (f"{r['cell']:<44} {r['outcome']:<19} exit {fmt(r['exit'], 'd'):>2}  steps "
            f"{fmt(r['steps'], 'd'):>6}  rejected {fmt(r['rejected'], 'd'):>5}  "
            f"{r['wall [s]']:7.1f} s  T_max {fmt(r['T_max [K]'], '.0f'):>5} K  "
            f"X {fmt(r['exchanged'], '.3g'):>8}  mobile {fmt(r['mobile ions'], '.3g'):>8}  "
            f"{r['reason'] if r['outcome'] != 'finished' else ''}")


if __name__ == "__main__":
    sys.exit(main())

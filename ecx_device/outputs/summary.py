"""The summary printed at the end of a run: 5-10 lines read from its folder.

Status and wall time, steps and rejected steps, the key results of the final row, the exchange's
figures and balances, the warnings the report detects (:func:`~ecx_device.outputs.report.
run_warnings`) and where the outputs are. Built from the files, like the report, so a failed or
stopped run gets one too.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ecx_device.outputs.registry import (ANODE_OVERPOTENTIAL, BIAS, BIAS_POINTS,
                                         BIAS_POINTS_COMPLETED, COMPLETE, CURRENT, END_TIME,
                                         EXCHANGED_FRACTION, EXCHANGED_VOLUME, FINAL,
                                         FRONT_POSITION, MAX_CD_BALANCE_ERROR,
                                         MAX_CU_BALANCE_ERROR, RUN_CASE, RUN_KIND,
                                         RUN_REJECTED_STEPS, SIMULATED_TIME, STEPS, WIRE_T_MAX,
                                         WIRE_T_MAX_POSITION)

#: Warnings listed in the summary; the rest are counted (all are in report.html).
MAX_WARNINGS = 3


def headline(row: dict[str, float]) -> str:
    """The key results of a row: bias, current, and the hot spot when heat is solved."""
    text = f"V = {row[BIAS]:+.3f} V, I = {row[CURRENT]:.4g} A"
    if row.get(WIRE_T_MAX) is not None:
        text += f", T_max = {row[WIRE_T_MAX]:.1f} K"
        if row.get(WIRE_T_MAX_POSITION) is not None:  # a particle has no wire axis
            text += f" at z = {row[WIRE_T_MAX_POSITION]:.1f} nm"
    return text


def summary_lines(run_dir: Path, wall_time: float) -> list[str]:
    """The summary of the run in ``run_dir`` (no lines when it has no results.json).

    Args:
        run_dir: The run folder.
        wall_time: Wall-clock time of the whole run (s), outputs and report included.
    """
    from ecx_device.outputs.report import run_warnings

    run_dir = Path(run_dir)
    try:
        res = json.loads((run_dir / "results.json").read_text())
    except (OSError, ValueError):
        return []
    lines = [_status_line(run_dir, res, wall_time)]
    final = res.get(FINAL)
    if isinstance(final, dict):
        lines.append(f"  final: {headline(final)}")
        if EXCHANGED_VOLUME in final:
            lines.append(f"  exchange: {_exchange(final)}")
    if MAX_CU_BALANCE_ERROR in res:
        lines.append(f"  balances: Cu {_g(res[MAX_CU_BALANCE_ERROR])}, Cd "
                     f"{_g(res.get(MAX_CD_BALANCE_ERROR))} (largest relative errors)")
    warnings = run_warnings(run_dir)
    if not warnings:
        lines.append("  warnings: none")
    else:
        lines.append(f"  warnings ({len(warnings)}):")
        lines += [f"    - {w}" for w in warnings[:MAX_WARNINGS]]
        if len(warnings) > MAX_WARNINGS:
            lines.append(f"    ... and {len(warnings) - MAX_WARNINGS} more in report.html")
    lines.append(f"  outputs: {run_dir} (report.html: one page on the run)")
    return lines


def _status_line(run_dir: Path, res: dict, wall_time: float) -> str:
    name = res.get(RUN_CASE, run_dir.name)
    if res.get(COMPLETE) is True:
        status = f"complete, done in {wall_time:.1f} s"
    elif (run_dir / "failure_report.json").is_file():
        status = f"FAILED after {wall_time:.1f} s"
    else:
        status = f"stopped after {wall_time:.1f} s"
    rejected = res.get(RUN_REJECTED_STEPS, 0)
    if SIMULATED_TIME in res:
        done = (f"{res.get(STEPS, 0)} time steps ({rejected} rejected) to t = "
                f"{res[SIMULATED_TIME]:.4g} s of {res.get(END_TIME, math.nan):.4g} s")
    else:
        what = "biases" if res.get(RUN_KIND) == "iv" else "bias points"
        done = (f"{res.get(BIAS_POINTS_COMPLETED, 0)} of {res.get(BIAS_POINTS, '?')} {what} "
                f"({rejected} rejected bias steps)")
    return f"{name}: {status}; {done}"


def _exchange(final: dict) -> str:
    front = final.get(FRONT_POSITION)
    text = (f"X volume {final[EXCHANGED_VOLUME]:.4g} nm^3 "
            f"({_g(final.get(EXCHANGED_FRACTION))} of the wire), front "
            + ("none yet (no X >= 1/2)" if front is None else f"at z = {front:.1f} nm"))
    if final.get(ANODE_OVERPOTENTIAL) is not None:
        text += f", anode overpotential {final[ANODE_OVERPOTENTIAL]:+.3f} V"
    return text


def _g(value) -> str:
    return "n/a" if not isinstance(value, (int, float)) else f"{value:.2g}"

"""Parameter sweeps: the product of ``--set KEY=V1,V2,...`` values as separate runs.

Each combination becomes a case file (``DIR/cases/<id>.yaml``) and a run folder
(``DIR/runs/<id>/``) executed by ``ecx-device run`` in its own process; ``--jobs`` processes run at
once. A run whose ``results.json`` says it is complete is skipped; one with a checkpoint is
continued with ``--restart``. ``DIR/summary.csv`` collects the swept values and final scalars
of every run, and ``DIR/summary.png`` plots one output against one swept input.

For many machines, the same command runs one combination per task of a batch array
(``--index N``, e.g. ``$SLURM_ARRAY_TASK_ID``) and ``--collect`` gathers the summary afterwards:
the scheduler does the distribution, this module only names and checks the runs.
"""

from __future__ import annotations

import copy
import csv
import io
import itertools
import json
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from ecx_device.case.loader import check_case, read_yaml
from ecx_device.case.settings import ALIASES, apply_setting  # noqa: F401 (the sweep's keys)
from ecx_device.errors import CaseError
from ecx_device.outputs.atomic import write_text_atomic
from ecx_device.outputs.registry import COMPLETE, FINAL
from ecx_device.units import ureg


@dataclass(frozen=True)
class SweepRun:
    """One combination of swept values."""

    index: int
    run_id: str
    settings: tuple[tuple[str, str], ...]


def parse_sets(items: list[str]) -> dict[str, list[str]]:
    """Parse ``KEY=V1,V2`` strings into ``{KEY: [V1, V2]}`` (values keep their units)."""
    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise CaseError(f"--set {item!r}: expected KEY=VALUE[,VALUE...], e.g. "
                            "geometry.wire.diameter=30nm,40nm")
        out[key.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return out


def plan(case_path: Path, sets: dict[str, list[str]]) -> tuple[dict, list[SweepRun]]:
    """All combinations, each validated as a case before anything runs."""
    base = read_yaml(case_path)
    runs = []
    keys = list(sets)
    for index, combo in enumerate(itertools.product(*(sets[k] for k in keys))):
        settings = tuple(zip(keys, combo))
        label = "__".join(f"{k.split('.')[-1]}={v}" for k, v in settings)
        run_id = f"{index:03d}_" + re.sub(r"[^A-Za-z0-9_.=-]+", "", label)[:80]
        where = ", ".join(f"{k}={v}" for k, v in settings)
        check_case(_variant(base, settings, run_id, Path(case_path).parent),
                   source=f"{case_path} with {where}")
        runs.append(SweepRun(index, run_id, settings))
    return base, runs


def _variant(base: dict, settings, run_id: str, base_dir: Path) -> dict:
    data = copy.deepcopy(base)
    for key, value in settings:
        apply_setting(data, key, value)
    # the variant is written elsewhere: make the case's relative data files absolute
    for section, key in (("geometry", "mesh_file"), ("composition", "file")):
        value = data.get(section, {}).get(key) if isinstance(data.get(section), dict) else None
        if isinstance(value, str) and not Path(value).is_absolute():
            data[section][key] = str((base_dir / value).resolve())
    data["name"] = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{base.get('name', 'case')}_{run_id}")[:100]
    data.setdefault("outputs", {}).pop("directory", None)
    return data


def _status(run_dir: Path) -> str:
    results = run_dir / "results.json"
    if results.is_file():
        try:
            if json.loads(results.read_text()).get(COMPLETE):
                return "complete"
        except json.JSONDecodeError:
            pass
    if (run_dir / "checkpoint" / "meta.json").is_file():
        return "partial"
    return "new"


def execute(case_path: Path, out: Path, runs: list[SweepRun], base: dict, *, jobs: int,
            smoke: bool = False, log=None) -> dict[str, str]:
    """Run (or skip, or continue) every combination; returns run_id -> final status."""
    (out / "cases").mkdir(parents=True, exist_ok=True)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    def log_line(msg: str) -> None:
        with lock:  # whole lines from concurrent runs
            (log or print)(msg)

    def one(run: SweepRun) -> tuple[str, str]:
        case_file = out / "cases" / f"{run.run_id}.yaml"
        variant = _variant(base, run.settings, run.run_id, Path(case_path).parent)
        write_text_atomic(case_file, yaml.safe_dump(variant, sort_keys=False))
        run_dir = out / "runs" / run.run_id
        status = _status(run_dir)
        if status == "complete":
            log_line(f"[{run.run_id}] already complete, skipped")
            return run.run_id, "complete"
        cmd = [sys.executable, "-m", "ecx_device", "run", str(case_file)]
        cmd += ["--restart", str(run_dir)] if status == "partial" else ["--out", str(run_dir),
                                                                        "--overwrite"]
        if smoke:
            cmd.append("--smoke")
        log_line(f"[{run.run_id}] {'continuing' if status == 'partial' else 'starting'}")
        with (out / "runs" / f"{run.run_id}.log").open("w") as logfile:
            code = subprocess.run(cmd, stdout=logfile, stderr=subprocess.STDOUT,
                                  env={**os.environ, "OMP_NUM_THREADS": "1"}).returncode
        result = "complete" if code == 0 else f"failed (exit {code}, see runs/{run.run_id}.log)"
        log_line(f"[{run.run_id}] {result}")
        return run.run_id, result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return dict(pool.map(one, runs))


def collect(out: Path, runs: list[SweepRun], plot_x: str | None, plot_y: str) -> Path:
    """Write ``summary.csv`` (swept values, status, final scalars) and ``summary.png``."""
    rows = []
    for run in runs:
        run_dir = out / "runs" / run.run_id
        row: dict[str, object] = {"run": run.run_id, "status": _status(run_dir)}
        for key, value in run.settings:
            row[key] = value
        results = run_dir / "results.json"
        final = json.loads(results.read_text()).get(FINAL) if results.is_file() else None
        row.update(final or {})
        rows.append(row)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(out / "summary.csv", buf.getvalue())
    if runs and plot_y:
        _plot(out / "summary.png", rows, [k for k, _ in runs[0].settings], plot_x, plot_y)
    return out / "summary.csv"


def _magnitude(text: str) -> float:
    """A swept value as a number in SI base units (for the plot axis)."""
    q = ureg.Quantity(text)
    return float(q.to_base_units().magnitude) if hasattr(q, "to_base_units") else float(q)


def _plot(path: Path, rows: list[dict], keys: list[str], plot_x: str | None, plot_y: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x_key = plot_x or keys[0]
    if x_key not in keys:
        raise CaseError(f"--plot-x {x_key}: not a swept key ({', '.join(keys)})")
    others = [k for k in keys if k != x_key]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if r.get(plot_y) is not None:  # undefined final values are null in results.json
            groups.setdefault(tuple(r[k] for k in others), []).append(r)
    for label, group in groups.items():
        group.sort(key=lambda r: _magnitude(r[x_key]))
        ax.plot([_magnitude(r[x_key]) for r in group], [float(r[plot_y]) for r in group], "o-",
                label=", ".join(f"{k}={v}" for k, v in zip(others, label)) or None)
    unit = ureg.Quantity(str(rows[0][x_key])).to_base_units().units
    ax.set_xlabel(f"{x_key} [{unit:~P}]")
    ax.set_ylabel(plot_y)
    if not groups:
        from ecx_device.outputs.plots import no_data

        no_data(ax, f"no finished run has a value of {plot_y!r}")
    elif others:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

"""One page per run: ``report.html`` in the run folder, built from the files the run wrote.

Everything on the page is read from the run folder (results.json, timeseries.csv,
case.resolved.yaml, provenance.json, references.json, failure_report.json, checkpoint/meta.json,
the PNG plots and maps, the ``iv_t<t>s/`` folders), never from a live simulation, so
``ecx-device report RUN_DIR`` rebuilds it at any time, also for a failed or interrupted run.

The page is self-contained: images are inlined as base64 ``data:`` URIs, the style sheet is
inline, and there is no script and nothing to fetch, so it opens offline and travels as one file.
Every number shown carries its origin and exact value in ``data-key``/``data-value`` attributes
(``data-key="results.json:final.current [A]"``, ``data-value`` the shortest decimal that reads back
as the same float, ``null`` when undefined), so a script can check the page against the files.

Sections (element ids): ``run``, ``warnings``, ``case``, ``timeseries``, ``iv``, ``maps``,
``balances``, ``provenance``.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
import re
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ecx_device.errors import CaseError
from ecx_device.outputs.atomic import write_text_atomic
from ecx_device.outputs.registry import (BIAS, BIAS_POINTS, BIAS_POINTS_COMPLETED, CATHODE_CURRENT,
                                         COMPLETE, CURRENT, CURRENT_MISMATCH, CURRENT_RESOLUTION,
                                         END_TIME, FINAL, MAX_CD_BALANCE_ERROR,
                                         MAX_CU_BALANCE_ERROR, RUN_CASE, RUN_SMOKE,
                                         SIMULATED_TIME, TIME, WIRE_T_MAX)

__all__ = ["REPORT_NAME", "SECTIONS", "BALANCE_LIMIT", "MISMATCH_LIMIT", "write_report",
           "report_html", "run_warnings", "result_warnings"]

REPORT_NAME = "report.html"
SECTIONS = {"run": "Run", "warnings": "Warnings", "case": "Case", "timeseries": "Time series",
            "iv": "I\u2013V per snapshot", "maps": "Maps", "balances": "Balances",
            "provenance": "Provenance"}
# A relative Cu/Cd balance error above this is reported: the balances close to the Newton
# tolerance (docs/model.md 8.4), ~1e-15 in the shipped cases.
BALANCE_LIMIT = 1e-9
# Anode and cathode currents that differ by more than this (relative) are reported unless the
# difference is within the terminal's current_resolution [A]: the criterion of tests/cases.
MISMATCH_LIMIT = 1e-6
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Plots of the time series, in page order; every other top-level PNG is a map.
TIMESERIES_PLOTS = ("exchange_history.png", "bias_sweep.png", "temperature_axis.png")
SKIPPED_FOLDERS = {"fields", "device_fields", "checkpoint"}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem 2rem;
       color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ccc; margin-top: 2rem; }
nav a { margin-right: 1rem; }
.columns { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.15rem 0.5rem; text-align: left;
         vertical-align: top; }
td.num, span.num { font-variant-numeric: tabular-nums; }
figure { display: inline-block; margin: 0.5rem 1rem 1rem 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #555; }
.status { display: inline-block; padding: 0.1rem 0.6rem; border-radius: 0.3rem; color: #fff; }
.complete { background: #2a7d2a; } .incomplete { background: #b36b00; }
.failed { background: #b00020; }
.warning { color: #8a4b00; } .ok { color: #2a7d2a; } .muted { color: #777; }
pre { background: #f6f6f6; padding: 0.5rem; overflow-x: auto; font-size: 0.8rem; }
"""


@dataclass
class _Run:
    """What the run folder holds, read once."""

    folder: Path
    results: dict | None = None
    results_strict: bool = True
    case: dict = field(default_factory=dict)
    case_text: str = ""
    rows: list[dict[str, float]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    provenance: dict | None = None
    references: dict | None = None
    failure: dict | None = None
    checkpoint: dict | None = None
    warnings: list[str] = field(default_factory=list)


def write_report(run_dir: Path) -> Path:
    """Write ``report.html`` into the folder of a finished, failed or interrupted run.

    Call it on MPI rank 0 only, after the run's files are closed.

    Args:
        run_dir: Output folder of ``ecx-device run`` or ``ecx-device iv``.

    Returns:
        The path of the report.

    Raises:
        CaseError: ``run_dir`` is not the folder of a run.
    """
    run_dir = Path(run_dir)
    text = report_html(run_dir)
    path = run_dir / REPORT_NAME
    write_text_atomic(path, text)
    return path


def run_warnings(run_dir: Path) -> list[str]:
    """The warnings the report lists for the run in ``run_dir`` (read from its files).

    Raises:
        CaseError: ``run_dir`` is not the folder of a run.
    """
    run = _read_run(Path(run_dir))
    _detect_warnings(run)
    return run.warnings


def result_warnings(run_dir: Path) -> list[str]:
    """The warnings of :func:`run_warnings` that say a result fails the model's own checks
    (balances, anode against cathode current), for scripts that judge runs.

    Raises:
        CaseError: ``run_dir`` is not the folder of a run.
    """
    return _result_warnings(_read_run(Path(run_dir)))


def report_html(run_dir: Path) -> str:
    """The report of the run in ``run_dir`` as one HTML document (see :func:`write_report`)."""
    run = _read_run(Path(run_dir))
    _detect_warnings(run)
    name = run.case.get("name") or (run.results or {}).get(RUN_CASE) or run.folder.name
    body = [
        f"<h1>{_e(name)}</h1>",
        f"<p>{_e(run.case.get('description', ''))}</p>",
        "<nav>" + "".join(f'<a href="#{k}">{_e(v)}</a>' for k, v in SECTIONS.items()) + "</nav>",
        _section("run", _run_section(run)),
        _section("warnings", _warnings_section(run)),
        _section("case", _case_section(run)),
        _section("timeseries", _timeseries_section(run)),
        _section("iv", _iv_section(run)),
        _section("maps", _maps_section(run)),
        _section("balances", _balances_section(run)),
        _section("provenance", _provenance_section(run)),
        f'<p class="muted">Written by <code>ecx-device report</code> on '
        f"{_e(time.strftime('%Y-%m-%d %H:%M:%S %Z'))} from the files in "
        f"<code>{_e(str(run.folder.resolve()))}</code>.</p>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{_e(name)}: ecx_device run report</title>\n"
            f"<style>{_STYLE}</style>\n</head>\n<body>\n" + "\n".join(body)
            + "\n</body>\n</html>\n")


# ------------------------------------------------------------------------------------ reading


def _no_constant(name: str):
    raise ValueError(f"non-standard JSON constant {name}")


def _read_json(path: Path) -> tuple[dict | list | None, bool]:
    """(content, strict) of a JSON file; content None when the file is missing or unreadable.
    Files written before undefined values became null may hold NaN: read them anyway."""
    if not path.is_file():
        return None, True
    text = path.read_text()
    try:
        return json.loads(text, parse_constant=_no_constant), True
    except ValueError:
        pass
    try:
        return json.loads(text), False
    except ValueError:
        return None, False


def _read_run(folder: Path) -> _Run:
    if not folder.is_dir():
        raise CaseError(f"report {str(folder)!r}: no such folder")
    markers = [folder / n for n in ("results.json", "case.resolved.yaml")]
    if not any(p.is_file() for p in markers):
        hint = (" (a sweep folder? give one of its runs/<id> folders)"
                if (folder / "runs").is_dir() else "")
        raise CaseError(f"report {str(folder)!r}: not a run folder (it has no results.json or "
                        f"case.resolved.yaml); expected the output folder of `ecx-device run`"
                        f"{hint}")
    run = _Run(folder)
    run.results, run.results_strict = _read_json(folder / "results.json")
    if (folder / "results.json").is_file() and run.results is None:
        run.warnings.append("results.json cannot be read (not JSON)")
        run.results = None
    case_path = folder / "case.resolved.yaml"
    if case_path.is_file():
        run.case_text = case_path.read_text()
        run.case = yaml.safe_load(run.case_text) or {}
    series = folder / ("timeseries.csv" if (folder / "timeseries.csv").is_file() else "iv.csv")
    run.rows, run.columns = _read_csv(series)
    for attr, name in (("provenance", "provenance.json"), ("references", "references.json"),
                       ("failure", "failure_report.json"), ("checkpoint", "checkpoint/meta.json")):
        content, strict = _read_json(folder / name)
        setattr(run, attr, content)
        if not strict:
            run.warnings.append(f"{name} is not strict JSON (NaN or Infinity in it: written by an "
                                "older ecx_device); some tools will refuse it")
    if not run.results_strict:
        run.warnings.append("results.json is not strict JSON (NaN or Infinity in it: written by "
                            "an older ecx_device); some tools will refuse it")
    return run


def _read_csv(path: Path) -> tuple[list[dict[str, float]], list[str]]:
    """Rows of a series CSV as floats (empty field: undefined, NaN) and its columns."""
    if not path.is_file():
        return [], []
    with path.open() as f:
        reader = csv.DictReader(f)
        rows = [{k: _float(v) for k, v in row.items()} for row in reader]
        return rows, list(reader.fieldnames or [])


def _float(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


# ------------------------------------------------------------------------------------ warnings


def _detect_warnings(run: _Run) -> None:
    """What the files say went wrong or deserves a look; appended to ``run.warnings``."""
    res, w = run.results, run.warnings
    if res is None:
        w.append("no results.json: the run stopped before writing its summary (killed, or still "
                 "running)")
    elif res.get(COMPLETE) is not True:
        if SIMULATED_TIME in res:
            how = (f"simulated {_fmt(res.get(SIMULATED_TIME))} s of "
                   f"{_fmt(res.get(END_TIME))} s")
        else:
            how = (f"{res.get(BIAS_POINTS_COMPLETED, '?')} of {res.get(BIAS_POINTS, '?')} "
                   "bias points")
        w.append(f"incomplete run: {how}")
    if run.failure is not None:
        w.append(f"failure_report.json: {run.failure.get('message', '(no message)')}")
    if res is not None and res.get(COMPLETE) is not True and run.checkpoint is not None:
        w.append(f"a checkpoint is on disk: continue with `ecx-device run CASE --restart "
                 f"{run.folder}`")
    if res is not None and res.get(RUN_SMOKE):
        w.append("smoke run (--smoke): coarse mesh and shortened protocol, a check that the case "
                 "runs, not a result")
    w.extend(_result_warnings(run))
    w.extend(_missing_outputs(run))
    for folder in _iv_folders(run.folder):
        sub, _ = _read_json(folder / "results.json")
        if sub is None or sub.get(COMPLETE) is not True:
            w.append(f"{folder.name}: the I-V sweep did not finish (no complete results.json)")


def _result_warnings(run: _Run) -> list[str]:
    """Results that fail the model's own checks: balances above BALANCE_LIMIT and rows whose
    anode and cathode currents disagree (time series and every I-V sweep)."""
    w = []
    for key in (MAX_CU_BALANCE_ERROR, MAX_CD_BALANCE_ERROR):
        value = (run.results or {}).get(key)
        if isinstance(value, (int, float)) and value > BALANCE_LIMIT:
            w.append(f"{key} = {_fmt(value)} exceeds {BALANCE_LIMIT:g}")
    w.extend(_mismatch_warnings(run.rows, "timeseries.csv"))
    for folder in _iv_folders(run.folder):
        rows, _ = _read_csv(folder / "iv.csv")
        w.extend(_mismatch_warnings(rows, f"{folder.name}/iv.csv"))
    return w


def _mismatch_warnings(rows: list[dict[str, float]], where: str) -> list[str]:
    """Rows whose anode and cathode currents disagree beyond MISMATCH_LIMIT and beyond the
    terminal's current_resolution [A] (when the file has that column)."""
    bad = []
    for row in rows:
        mismatch = row.get(CURRENT_MISMATCH, math.nan)
        if not mismatch > MISMATCH_LIMIT:
            continue
        gap = abs(row.get(CURRENT, math.nan) - row.get(CATHODE_CURRENT, math.nan))
        if gap <= row.get(CURRENT_RESOLUTION, -math.inf):
            continue
        bad.append((mismatch, row))
    if not bad:
        return []
    worst, row = max(bad, key=lambda b: b[0])
    at = (f"t = {_fmt(row[TIME])} s" if TIME in row else f"V = {_fmt(row.get(BIAS))} V")
    return [f"{where}: anode and cathode currents differ by more than {MISMATCH_LIMIT:g} "
            f"(relative) in {len(bad)} of {len(rows)} rows; worst {_fmt(worst)} at {at}"]


def _missing_outputs(run: _Run) -> list[str]:
    """Snapshot maps and stage I-V sweeps the case asked for, up to the time reached, that are
    not in the folder."""
    spec = run.case.get("exchange") or {}
    reached = (run.results or {}).get(SIMULATED_TIME)
    if not spec.get("enabled") or not isinstance(reached, (int, float)):
        return []
    due = [t for t in spec.get("snapshot_times") or [] if t <= reached * (1 + 1e-9)]
    out = []
    for t in due:
        if not (run.folder / "snapshots" / f"composition_t{t:.6g}s.npz").is_file():
            out.append(f"snapshot at t = {t:.6g} s is missing (snapshots/composition_t{t:.6g}s)")
        elif spec.get("iv_at_snapshots") and not (run.folder / f"iv_t{t:.6g}s").is_dir():
            out.append(f"the I-V sweep of the snapshot at t = {t:.6g} s is missing "
                       f"(iv_t{t:.6g}s/)")
    return out


# ------------------------------------------------------------------------------------ sections


def _run_section(run: _Run) -> str:
    res = run.results
    if res is None:
        status, label = "failed", "no results.json"
    elif res.get(COMPLETE) is True:
        status, label = "complete", "complete"
    else:
        status = "failed" if run.failure is not None else "incomplete"
        label = status
    parts = [f'<p>Status: <span class="status {status}">{_e(label)}</span> &nbsp; folder '
             f"<code>{_e(str(run.folder))}</code></p>"]
    if res is not None:
        scalars = {k: v for k, v in res.items() if not isinstance(v, (dict, list))}
        columns = ['<div><h3>Summary (results.json)</h3>' + _table(
            ["key", "value"], [[_e(k), _num(v, f"results.json:{k}")]
                               for k, v in scalars.items()]) + "</div>"]
        final = res.get(FINAL)
        if isinstance(final, dict):
            columns.append("<div><h3>Final state (results.json, <code>final</code>)</h3>"
                           + _table(["quantity", "value"],
                                    [[_e(k), _num(v, f"results.json:final.{k}")]
                                     for k, v in final.items()]) + "</div>")
        parts.append('<div class="columns">' + "".join(columns) + "</div>")
    return "\n".join(parts)


def _warnings_section(run: _Run) -> str:
    if not run.warnings:
        return '<p class="ok">None detected in the files of this run.</p>'
    return "<ul>" + "".join(f'<li class="warning">{_e(w)}</li>' for w in run.warnings) + "</ul>"


_LENGTH_SECTIONS = ("wire", "cu_electrode", "w_tip", "mesh")
_SECONDS = {"duration", "width", "period", "start_time"}
_VOLTS = {"voltage", "start", "stop", "base", "voltages"}


def _case_section(run: _Run) -> str:
    case = run.case
    if not case:
        return "<p>No case.resolved.yaml in the folder.</p>"
    geo = case.get("geometry") or {}
    rows = [["dimension", _e(geo.get("dimension"))]]
    for sec in _LENGTH_SECTIONS:
        for key, value in (geo.get(sec) or {}).items():
            if key == "cone_half_angle" and isinstance(value, (int, float)):
                rows.append([f"{sec}.{key}", f"{_num(math.degrees(value))} deg"])
            else:
                rows.append([f"{sec}.{key}", f"{_num(_scaled(value, 1e9))} nm"])
    if geo.get("mesh_file"):
        rows.append(["mesh_file", f"<code>{_e(geo['mesh_file'])}</code>"])
    parts = ["<h3>Geometry</h3>", _table(["key", "value"], rows)]
    mats = case.get("materials") or {}
    parts += ["<h3>Materials</h3>", _table(["region", "material"], [
        [_e(k), _e(json.dumps(v) if isinstance(v, dict) else v)] for k, v in mats.items()])]
    if case.get("composition", {}).get("shape", "none") != "none":
        parts += ["<h3>Prescribed composition</h3>", _table(["key", "value"], [
            [f"composition.{k}", _num(v)] for k, v in case["composition"].items()])]
    bias = case.get("bias") or {}
    segments = bias.get("protocol") or []
    keys = list(dict.fromkeys(k for s in segments for k in s if k != "type"))
    parts += [f"<h3>Bias protocol</h3><p>polarity: <code>{_e(bias.get('polarity'))}</code></p>",
              _table(["type", *(_e(_with_unit(k)) for k in keys)],
                     [[_e(s.get("type")), *(_num(s.get(k)) for k in keys)] for s in segments])]
    switches = [[f"electrical.{k}", _num(v)] for k, v in (case.get("electrical") or {}).items()]
    comp = case.get("composition") or {}
    switches.append(["composition.shape", _num(comp.get("shape"))])
    ex = case.get("exchange") or {}
    switches.append(["exchange.enabled", _num(ex.get("enabled"))])
    if ex.get("enabled"):
        for k in ("anode", "cu_source", "sublimation", "anode_equilibrium", "iv_at_snapshots"):
            switches.append([f"exchange.{k}", _num(ex.get(k))])
        switches.append(["exchange.snapshot_times [s]",
                         ", ".join(_num(t) for t in ex.get("snapshot_times") or []) or "none"])
    thermal = case.get("thermal") or {}
    for k, unit in (("heat_sink_temperature", "K"), ("ambient_temperature", "K"),
                    ("emissivity", "")):
        value = thermal.get(k)
        switches.append([f"thermal.{k}", f"{_num(value)} {unit if value is not None else ''}"
                         .strip()])
    switches.append(["solver.element_degree", _num((case.get("solver") or {}).get(
        "element_degree"))])
    parts += ["<h3>Model switches</h3>", _table(["key", "value"], switches),
              "<details><summary>the whole resolved case (case.resolved.yaml, SI units)"
              f"</summary><pre>{_e(run.case_text)}</pre></details>"]
    return "\n".join(parts)


def _timeseries_section(run: _Run) -> str:
    parts = [_figures(run.folder, [run.folder / n for n in TIMESERIES_PLOTS])
             or '<p class="muted">No time-series plot in the folder (outputs.plots: false, or a '
                "single bias point).</p>"]
    source = "timeseries.csv" if (run.folder / "timeseries.csv").is_file() else "iv.csv"
    if not run.rows:
        parts.append(f"<p>No {source} in the folder.</p>")
        return "\n".join(parts)
    parts.append(f"<p>{source}: {len(run.rows)} rows. Undefined values (empty fields) are left "
                 "out of the minimum and maximum.</p>")
    table = []
    for col in run.columns:
        values = [r[col] for r in run.rows]
        finite = [v for v in values if math.isfinite(v)]
        undefined = len(values) - len(finite)
        cells = [_num(_defined(values[0]), f"{source}:{col}:first"),
                 _num(_defined(values[-1]), f"{source}:{col}:last"),
                 _num(min(finite) if finite else None, f"{source}:{col}:min"),
                 _num(max(finite) if finite else None, f"{source}:{col}:max"),
                 _num(undefined, f"{source}:{col}:undefined")]
        table.append([_e(col), *cells])
    parts.append(_table(["column", "first", "last", "min", "max", "undefined"], table))
    return "\n".join(parts)


def _iv_folders(folder: Path) -> list[Path]:
    """``iv_t<t>s/`` folders in time order."""
    found = [p for p in folder.glob("iv_t*s") if p.is_dir()]
    return sorted(found, key=lambda p: _float(p.name[4:-1]))


def _iv_section(run: _Run) -> str:
    blocks = []
    if (run.folder / "iv.csv").is_file():  # the run is itself an I-V sweep
        blocks.append(_iv_block(run.folder, "this I\u2013V sweep", ""))
    for sub in _iv_folders(run.folder):
        blocks.append(_iv_block(sub, f"composition of t = {sub.name[4:-1]} s", f"{sub.name}/"))
    if blocks:
        return "\n".join(blocks)
    asked = (run.case.get("exchange") or {}).get("iv_at_snapshots")
    return ('<p class="muted">No I\u2013V sweep in this folder'
            + ("" if asked else " (the case did not ask for one: exchange.iv_at_snapshots is "
               "false)") + ".</p>")


def _iv_block(folder: Path, title: str, prefix: str) -> str:
    rows, columns = _read_csv(folder / "iv.csv")
    shown = [c for c in (BIAS, CURRENT, CATHODE_CURRENT, CURRENT_MISMATCH, WIRE_T_MAX)
             if c in columns]
    parts = [f"<h3>{_e(title)}</h3>", _figures(folder.parent if prefix else folder,
                                               [folder / "iv.png"]) or
             f'<p class="muted">No {prefix}iv.png.</p>']
    if rows:
        parts.append(_table([_e(c) for c in shown],
                            [[_num(_defined(r[c]), f"{prefix}iv.csv:{c}:{i}") for c in shown]
                             for i, r in enumerate(rows)]))
    else:
        parts.append(f'<p class="muted">No {prefix}iv.csv.</p>')
    return "\n".join(parts)


def _maps_section(run: _Run) -> str:
    snapshots = sorted((run.folder / "snapshots").glob("*.png"),
                       key=lambda p: _float(re.sub(r"^.*_t|s$", "", p.stem)))
    parts = []
    parts.append("<h3>Exchanged fraction X at the snapshots</h3>")
    parts.append(_figures(run.folder, snapshots) or '<p class="muted">No snapshot map (no '
                 "snapshot time was reached, or the run has no exchange dynamics).</p>")
    parts.append("<h3>Temperature</h3>")
    parts.append(_figures(run.folder, [run.folder / "temperature_map.png"])
                 or '<p class="muted">No temperature_map.png (exchange runs, 1D and MPI runs do '
                    "not draw one).</p>")
    placed = {*TIMESERIES_PLOTS, "temperature_map.png"}
    others = [p for p in sorted(run.folder.rglob("*.png"))
              if p.name not in placed and p.parent != run.folder / "snapshots"
              and not _under_iv_or_skipped(run.folder, p)]
    if others:
        parts += ["<h3>Other figures</h3>", _figures(run.folder, others)]
    return "\n".join(parts)


def _under_iv_or_skipped(root: Path, path: Path) -> bool:
    first = path.relative_to(root).parts[0]
    return (first in SKIPPED_FOLDERS or first.startswith(".")
            or (first.startswith("iv_t") and (root / first).is_dir())
            or path == root / "iv.png")


def _balances_section(run: _Run) -> str:
    res = run.results or {}
    keys = [k for k in (MAX_CU_BALANCE_ERROR, MAX_CD_BALANCE_ERROR) if k in res]
    if not keys:
        return ('<p class="muted">No Cu/Cd balances: this run has no exchange dynamics.</p>'
                if run.results is not None else "<p>No results.json.</p>")
    rows = []
    for k in keys:
        v = res[k]
        ok = isinstance(v, (int, float)) and v <= BALANCE_LIMIT
        verdict = (f'<span class="ok">within {BALANCE_LIMIT:g}</span>' if ok else
                   f'<span class="warning">above {BALANCE_LIMIT:g}</span>' if v is not None else
                   '<span class="warning">undefined</span>')
        rows.append([_e(k), _num(v, f"results.json:{k}"), verdict])
    return (_table(["results.json", "value", f"limit {BALANCE_LIMIT:g}"], rows)
            + "<p>Relative errors of the Cu and Cd inventories against the time-integrated "
              "fluxes (docs/model.md, section 8.4); the largest over all steps.</p>")


def _provenance_section(run: _Run) -> str:
    parts = []
    prov = run.provenance
    if isinstance(prov, dict):
        rows = []
        for k, v in prov.items():
            if k == "command" and isinstance(v, list):
                cell = f"<code>{_e(shlex.join(str(a) for a in v))}</code>"
            elif isinstance(v, dict):
                cell = ", ".join(f"{_e(a)} {_e(b)}" for a, b in v.items())
            else:
                cell = _num(v, f"provenance.json:{k}") if not isinstance(v, str) else _e(v)
            rows.append([_e(k), cell])
        parts += ["<h3>provenance.json</h3>", _table(["key", "value"], rows)]
    else:
        parts.append("<p>No provenance.json.</p>")
    refs = run.references
    if isinstance(refs, dict) and refs:
        parts += ["<h3>Sources of the material data (references.json)</h3>",
                  _table(["key", "flag", "citation"],
                         [[f"<code>{_e(k)}</code>", _e((v or {}).get("flag", "")),
                           _e((v or {}).get("citation", ""))] for k, v in refs.items()]),
                  "<p>Flags: S seen in a source, H handbook, E estimate.</p>"]
    else:
        parts.append("<p>No references.json.</p>")
    return "\n".join(parts)


# ------------------------------------------------------------------------------------ helpers


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _section(key: str, content: str) -> str:
    return f'<section id="{key}">\n<h2>{_e(SECTIONS[key])}</h2>\n{content}\n</section>'


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _defined(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _scaled(value, factor: float):
    return value * factor if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else value


def _with_unit(key: str) -> str:
    return f"{key} [s]" if key in _SECONDS else f"{key} [V]" if key in _VOLTS else key


def _fmt(value) -> str:
    """A number as shown on the page: integers in full, floats to 6 significant digits."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "\u2014"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _num(value, key: str | None = None) -> str:
    """A value on the page. Numbers, undefined values and (with ``key``) any scalar carry their
    exact value as JSON in ``data-value``; ``key`` names their origin in ``data-key``."""
    if isinstance(value, list):
        return ", ".join(_num(v) for v in value)
    if key is None and value is not None and not isinstance(value, (int, float)):
        return _e(value)
    exact = "null" if value is None or (isinstance(value, float) and not math.isfinite(value)) \
        else json.dumps(value)
    origin = f' data-key="{_e(key)}"' if key else ""
    return f'<span class="num"{origin} data-value="{_e(exact)}">{_e(_fmt(value))}</span>'


def _figures(root: Path, paths: list[Path]) -> str:
    """Inlined PNG figures (files that are missing or not PNG are left out)."""
    out = []
    for path in paths:
        if not path.is_file():
            continue
        data = path.read_bytes()
        if not data.startswith(PNG_SIGNATURE):
            continue
        name = path.relative_to(root).as_posix()
        out.append(f'<figure><img alt="{_e(name)}" src="data:image/png;base64,'
                   f'{base64.b64encode(data).decode("ascii")}"><figcaption>{_e(name)}'
                   "</figcaption></figure>")
    return "\n".join(out)

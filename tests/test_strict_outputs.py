"""Strict machine-readable outputs, and plots that say something.

- Every JSON file a run writes parses with a parser that refuses NaN/Infinity: undefined values
  are null. A real run of the default case (``--smoke``, through the CLI) and a real solver
  failure whose residual norms are NaN are checked, and the writer is shown to fail loudly when
  a NaN reaches it unconverted.
- timeseries.csv writes an undefined value as an empty field, and it reads back as NaN.
- exchange_history.png leaves out the front-position curve while there is no front, and a log
  panel whose values are all zero says so instead of drawing empty axes.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from ecx_device.outputs import quantities
from ecx_device.outputs.plots import exchange_history_figure
from ecx_device.outputs.quantities import SeriesWriter, read_series, strict_json, write_json

# Files every exchange run writes; the strictness check must see them, or it checks nothing.
EXPECTED_JSON = {"results.json", "provenance.json", "references.json", "markers.json",
                 "checkpoint/meta.json", "fields/index.json"}


def _refuse(name: str):
    raise ValueError(f"{name} is not JSON")


def strict_load(path: Path):
    """JSON as a strict parser (jq, JavaScript) reads it: NaN, Infinity, -Infinity refused."""
    return json.loads(path.read_text(), parse_constant=_refuse)


@pytest.fixture
def smoke_dir(default_smoke_run) -> Path:
    """The default case run with --smoke through the CLI (tests/conftest.py)."""
    return default_smoke_run


def test_strict_load_refuses_nan():
    with pytest.raises(ValueError):
        json.loads('{"a": NaN}', parse_constant=_refuse)
    with pytest.raises(ValueError):
        json.loads('[-Infinity]', parse_constant=_refuse)


def test_every_json_file_of_a_run_is_strict(smoke_dir):
    found = {p.relative_to(smoke_dir).as_posix(): p for p in smoke_dir.rglob("*.json")}
    assert EXPECTED_JSON <= set(found), sorted(found)
    for name, path in found.items():
        strict_load(path)  # raises on NaN/Infinity


def test_undefined_values_are_null_in_json_and_empty_in_csv(smoke_dir):
    """The final row of results.json and the last row of timeseries.csv hold the same values;
    a value is null in the one exactly where the field is empty in the other."""
    final = strict_load(smoke_dir / "results.json")["final"]
    with (smoke_dir / "timeseries.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[-1]) == list(final)
    for key, text in rows[-1].items():
        if text == "":
            assert final[key] is None, key
        else:
            assert math.isfinite(float(text)) and float(text) == final[key], key
    for row in rows:  # no spelling of NaN/inf anywhere: a field is a finite number or empty
        assert all(v == "" or math.isfinite(float(v)) for v in row.values()), row
    empty = [k for r in rows for k, v in r.items() if v == ""]
    parsed = read_series(smoke_dir / "timeseries.csv")
    assert sum(math.isnan(v) for r in parsed for v in r.values()) == len(empty)


def test_strict_json_converts_recursively():
    data = {"a": math.nan, "b": [np.float64("inf"), np.float32(1.5), np.int64(3),
                                 (-math.inf, 2.0)],
            "c": np.array([1.0, np.nan]), "d": {"e": np.float64(np.nan)}, "f": None, "g": True}
    out = strict_json(data)
    assert out == {"a": None, "b": [None, 1.5, 3, [None, 2.0]], "c": [1.0, None],
                   "d": {"e": None}, "f": None, "g": True}
    assert type(out["b"][2]) is int and type(out["b"][1]) is float
    assert json.loads(json.dumps(out, allow_nan=False)) == out


def test_write_json_fails_loudly_on_what_it_cannot_write(tmp_path, monkeypatch):
    write_json(tmp_path / "ok.json", {"x": math.nan, "y": np.float64(2.5)})
    assert strict_load(tmp_path / "ok.json") == {"x": None, "y": 2.5}
    with pytest.raises(TypeError):
        write_json(tmp_path / "bad.json", {"x": object()})
    # a NaN that gets past the conversion is an error, not a silently non-standard file
    monkeypatch.setattr(quantities, "strict_json", lambda value: value)
    with pytest.raises(ValueError):
        write_json(tmp_path / "nan.json", {"x": math.nan})
    assert not (tmp_path / "nan.json").exists()


def test_series_writer_writes_undefined_as_empty_and_reads_back_nan(tmp_path):
    path = tmp_path / "s.csv"
    w = SeriesWriter(path)
    w.append({"t [s]": 0.0, "front [nm]": math.nan, "n [-]": 2})
    w.append({"t [s]": 1.0, "front [nm]": 12.5, "n [-]": 3})
    w.append({"t [s]": 2.0, "front [nm]": np.float64(-np.inf), "n [-]": 4})
    assert path.read_text().splitlines() == ["t [s],front [nm],n [-]", "0.0,,2", "1.0,12.5,3",
                                             "2.0,,4"]
    rows = read_series(path)
    assert math.isnan(rows[0]["front [nm]"]) and rows[1]["front [nm]"] == 12.5
    assert math.isnan(rows[2]["front [nm]"])


def test_failure_report_of_a_nan_solve_is_strict(tmp_path, monkeypatch):
    """A solve that returns NaN: the in-memory residual norms are NaN, the file has null there.
    Run through the CLI entry point in-process (--debug re-raises the error with its details)."""
    import yaml
    from test_reliability import _case_1d

    from ecx_device.cli import main
    from ecx_device.errors import SolverError
    from ecx_device.fem import dolfinx

    original = dolfinx.fem.petsc.NonlinearProblem.solve

    def always_nan(self):
        result = original(self)
        result[1].x.array[:] = math.nan
        return result

    monkeypatch.setattr(dolfinx.fem.petsc.NonlinearProblem, "solve", always_nan)
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump(_case_1d(3)))
    with pytest.raises(SolverError) as info:
        main(["run", str(case), "--out", str(tmp_path / "run"), "--debug"])
    in_memory = info.value.details["last_failure"]["residual_norms_after"]
    assert any(math.isnan(v) for v in in_memory.values())
    report = strict_load(tmp_path / "run" / "failure_report.json")
    on_disk = report["last_failure"]["residual_norms_after"]
    assert {k: v is None for k, v in on_disk.items()} == \
        {k: math.isnan(v) for k, v in in_memory.items()}
    for path in (tmp_path / "run").rglob("*.json"):
        strict_load(path)


# ------------------------------------------------------------------------------------ plots


def _texts(ax) -> str:
    return " ".join(t.get_text() for t in ax.texts)


def _rows(smoke_dir: Path) -> list[dict[str, float]]:
    rows = read_series(smoke_dir / "timeseries.csv")
    assert len(rows) > 2
    return rows


def test_no_front_no_front_curve(smoke_dir):
    rows = [{**r, "front_position [nm]": math.nan} for r in _rows(smoke_dir)]
    fig = exchange_history_figure(rows, "t")
    panel = fig.axes[0]
    assert "no front yet" in _texts(panel)
    assert "front" not in panel.get_ylabel()
    assert "exchanged volume" in panel.get_ylabel()  # the volume moved onto the free axis
    assert [len(line.get_xdata()) for line in panel.lines] == [len(rows)]


def test_a_front_is_drawn_where_it_exists(smoke_dir):
    rows = _rows(smoke_dir)
    front = [math.nan] * 2 + [10.0 + k for k in range(len(rows) - 2)]
    rows = [{**r, "front_position [nm]": f} for r, f in zip(rows, front)]
    fig = exchange_history_figure(rows, "t")
    panel = fig.axes[0]
    assert "no front yet" not in _texts(panel)
    assert "front position" in panel.get_ylabel()
    assert list(panel.lines[0].get_ydata()) == front[2:]  # undefined points left out


def test_all_zero_log_panels_say_so(smoke_dir):
    zero = ("current [A]", "ionic_current [A]", "cu_inflow_rate [1/s]",
            "cd_sublimation_rate [1/s]", "cd_kickout_rate [1/s]", "cu_balance_error [-]",
            "cd_balance_error [-]")
    rows = [{**r, **{k: 0.0 for k in zero}} for r in _rows(smoke_dir)]
    fig = exchange_history_figure(rows, "t")
    current, rates, balance = fig.axes[1], fig.axes[2], fig.axes[3]
    for ax, words in ((current, "no current"), (rates, "every rate is 0"),
                      (balance, "error 0")):
        assert not ax.lines and words in _texts(ax) and ax.get_yscale() == "linear"
    live = exchange_history_figure(_rows(smoke_dir), "t")
    assert all(ax.lines and not ax.texts and ax.get_yscale() == "log"
               for ax in live.axes[1:4])


def test_sweep_plot_skips_undefined_values(tmp_path):
    """A swept quantity that is null in some runs' results.json (no front) is left out of
    summary.png; when no run has it, the plot says so."""
    try:  # the run-layer restructuring moves sweep.py into commands/
        from ecx_device.commands.sweep import _plot
    except ImportError:
        from ecx_device.sweep import _plot

    rows = [{"run": "a", "bias": "0.1 V", "front_position [nm]": None},
            {"run": "b", "bias": "0.2 V", "front_position [nm]": 3.0}]
    _plot(tmp_path / "some.png", rows, ["bias"], None, "front_position [nm]")
    _plot(tmp_path / "none.png", rows[:1], ["bias"], None, "front_position [nm]")
    for name in ("some.png", "none.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_series_writer_appends_the_same_file_as_writing_all_rows_at_once(tmp_path):
    """Row by row (each row formatted once) gives the file that the rows written in one go
    give; rows assigned afterwards (a restart) are all written at the next append."""
    rows = [{"t [s]": float(k), "x [-]": k / 3, "front [nm]": math.nan if k % 2 else 1.5}
            for k in range(7)]
    one_by_one, at_once = tmp_path / "a.csv", tmp_path / "b.csv"
    w = SeriesWriter(one_by_one)
    for r in rows:
        w.append(r)
    SeriesWriter(at_once, rows=rows[:-1]).append(rows[-1])
    assert one_by_one.read_text() == at_once.read_text()
    assert len(one_by_one.read_text().splitlines()) == 8

    w.rows = read_series(one_by_one)[:3]  # a restart after the third row
    w.append(rows[3])
    lines = one_by_one.read_text().splitlines()
    assert len(lines) == 5 and lines[4] == at_once.read_text().splitlines()[4]

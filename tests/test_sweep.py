"""Sweeps: the product of values runs as separate processes, finished runs are skipped, and the
summary table holds physically consistent results."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from ecx_device.cli import main
from ecx_device.errors import CaseError
from ecx_device.commands.sweep import apply_setting, parse_sets

CASE = Path(__file__).parents[1] / "cases" / "zhang2017_1d.yaml"


def _summary(out: Path) -> list[dict]:
    with (out / "summary.csv").open() as f:
        return list(csv.DictReader(f))


def test_sweep_product_skip_and_physics(tmp_path):
    out = tmp_path / "sw"
    args = ["sweep", str(CASE), "--set", "bias=0.05V,0.1V", "--set",
            "geometry.wire.diameter=30nm,40nm", "--out", str(out), "--jobs", "2", "--smoke"]
    assert main(args) == 0
    rows = _summary(out)
    assert len(rows) == 4 and all(r["status"] == "complete" for r in rows)
    current = {(r["bias"], r["geometry.wire.diameter"]): float(r["current [A]"]) for r in rows}
    # Ohmic wire, negligible heating at these biases: I ~ V d^2
    assert current[("0.1V", "40nm")] / current[("0.05V", "40nm")] == pytest.approx(2, rel=1e-3)
    assert current[("0.1V", "40nm")] / current[("0.1V", "30nm")] == pytest.approx(16 / 9,
                                                                                  rel=1e-3)
    assert (out / "summary.png").stat().st_size > 0
    stamps = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/results.json")}
    assert main(args) == 0  # everything complete: nothing runs again
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_single_index_then_collect(tmp_path):
    out = tmp_path / "sw"
    base = ["sweep", str(CASE), "--set", "bias=0.05V,0.1V", "--out", str(out), "--smoke"]
    assert main([*base, "--index", "1"]) == 0
    assert sorted(os.listdir(out / "runs"))[0].startswith("001_")
    assert main([*base, "--collect"]) == 0
    status = [r["status"] for r in _summary(out)]
    assert status == ["new", "complete"]


def test_unknown_key_suggests_the_real_one():
    with pytest.raises(CaseError, match="did you mean geometry.wire.diameter"):
        apply_setting({"geometry": {"wire": {"diameter": "40 nm"}}}, "geometry.diameter", "3nm")


def test_bad_set_syntax():
    with pytest.raises(CaseError, match="expected KEY=VALUE"):
        parse_sets(["bias"])


def test_invalid_combination_stops_before_running(tmp_path, capsys):
    code = main(["sweep", str(CASE), "--set", "bias=0.1V,0.2", "--out", str(tmp_path / "x")])
    assert code == 2
    assert "missing unit" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()

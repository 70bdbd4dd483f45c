"""The stress matrix's row for a run that ended without results.json (a run killed at the
wall-time limit lost it in the sixth session): its counters come from timeseries.csv instead of
being left empty (benchmarks/stress_matrix.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _stress_matrix():
    spec = importlib.util.spec_from_file_location("stress_matrix",
                                                  ROOT / "benchmarks" / "stress_matrix.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["stress_matrix"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_a_run_without_results_is_read_from_its_timeseries(tmp_path):
    (tmp_path / "timeseries.csv").write_text(
        "time [s],wire_T_max [K],exchanged_fraction [-],cu_mobile [-],rejected_steps [-]\n"
        "0.0,500.0,0.0,0.0,0\n"
        "0.001,500.5,0.01,12.0,2\n"
        "0.0025,501.0,0.02,30.0,1\n")
    row = _stress_matrix()._read(tmp_path, None, "")
    assert row["outcome"] == "FAILED"
    assert (row["steps"], row["rejected"], row["simulated [s]"]) == (2, 3, 0.0025)
    assert (row["T_max [K]"], row["exchanged"], row["mobile ions"]) == (501.0, 0.02, 30.0)
    assert row["reason"].startswith("no results.json")


def test_a_run_with_nothing_on_disk_keeps_empty_counters(tmp_path):
    row = _stress_matrix()._read(tmp_path, None, "wall-time limit of 600 s")
    assert row["steps"] is None and row["reason"] == "wall-time limit of 600 s"

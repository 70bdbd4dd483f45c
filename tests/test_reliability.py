"""Failure paths: a solver failure, a NaN, a signal and a restart never lose a result.

Each test provokes the failure for real and checks what is left on disk.
"""

from __future__ import annotations

import copy
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pyvista as pv
import yaml

from ecx_device.case.loader import validate_case
from ecx_device.case.schema import Case
from ecx_device.errors import CaseError, SolverError
from ecx_device.fem import dolfinx
from ecx_device.outputs.quantities import read_series
from ecx_device.runs.checkpoint import case_fingerprint
from ecx_device.outputs.report import run_warnings
from ecx_device.runs.simulation import Simulation

CASES = Path(__file__).parents[1] / "cases"
BASE_1D = yaml.safe_load((CASES / "zhang2017_1d.yaml").read_text())


def _case_1d(points: int, stop: str = "1.0 V", **wire_override) -> dict:
    data = copy.deepcopy(BASE_1D)
    data["geometry"]["mesh"] = {"wire_size": "10 nm", "contact_size": "5 nm",
                                "metal_size": "40 nm"}
    data["bias"]["protocol"] = [{"type": "ramp", "start": "0 V", "stop": stop,
                                 "duration": "1 s", "points": points}]
    data["outputs"] = {"plots": False}
    if wire_override:
        data["materials"]["overrides"] = {"wire": wire_override}
    return data


RUNAWAY = {"electrical_conductivity": {"model": "arrhenius", "value": "1e3 S/m",
                                       "activation_energy": "0.5 eV",
                                       "reference_temperature": "300 K"}}


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ecx_device", *args], capture_output=True,
                          text=True, timeout=300, **kw)


def _pvd_steps(folder: Path) -> list[float]:
    reader = pv.PVDReader(str(folder / "fields" / "fields.pvd"))
    reader.set_active_time_value(reader.time_values[-1])
    assert "temperature [K]" in reader.read()[0].point_data
    return list(reader.time_values)


def test_impossible_bias_stops_cleanly_and_keeps_outputs(tmp_path):
    case = _write(tmp_path, _case_1d(11, "3.0 V", **RUNAWAY))
    out = tmp_path / "run"
    proc = _cli("run", str(case), "--out", str(out))
    assert proc.returncode == 3
    assert len(proc.stderr.strip().splitlines()) == 1 and "thermal runaway" in proc.stderr
    rows = read_series(out / "timeseries.csv")
    assert 1 <= len(rows) < 11 and rows[-1]["bias [V]"] < 0.75
    report = json.loads((out / "failure_report.json").read_text())
    assert report["bias_point"] == len(rows) + 1
    assert report["last_converged"]["bias [V]"] == pytest.approx(rows[-1]["bias [V]"])
    failure = report["last_failure"]
    assert failure["worst_equation"] in ("T", "phi")
    assert set(failure["residual_norms_after"]) == {"T", "phi"}
    meta = json.loads((out / "checkpoint" / "meta.json").read_text())
    assert meta["completed"] == len(rows)
    assert _pvd_steps(out) == pytest.approx([r["time [s]"] for r in rows])
    assert json.loads((out / "results.json").read_text())["complete"] is False


def _poison_solves(monkeypatch, poisoned, everything: bool = False):
    """From now on, the solves whose (1-based) count ``poisoned(count)`` holds return a NaN
    temperature (the first value, or ``everything``); returns the unpoisoned solve."""
    original = dolfinx.fem.petsc.NonlinearProblem.solve
    calls = {"n": 0}

    def solve(self):
        result = original(self)
        calls["n"] += 1
        if poisoned(calls["n"]):
            result[1].x.array[slice(None) if everything else 0] = math.nan
        return result

    monkeypatch.setattr(dolfinx.fem.petsc.NonlinearProblem, "solve", solve)
    return original


def test_nan_is_a_rejected_step(tmp_path, monkeypatch):
    # one NaN solve: the second, the first bias step, which has no prediction to fall back
    # from (a failed predicted start is retried from the last state, not rejected)
    original = _poison_solves(monkeypatch, lambda n: n == 2)
    case = validate_case(_case_1d(5))
    poisoned_rows = Simulation(case, tmp_path / "a", log=None).run().rows
    monkeypatch.setattr(dolfinx.fem.petsc.NonlinearProblem, "solve", original)
    clean_rows = Simulation(case, tmp_path / "b", log=None).run().rows
    assert sum(r["rejected_steps [-]"] for r in poisoned_rows) == 1
    assert poisoned_rows[-1]["wire_T_max [K]"] == pytest.approx(
        clean_rows[-1]["wire_T_max [K]"], rel=1e-10)


def test_persistent_nan_fails_with_report(tmp_path, monkeypatch):
    _poison_solves(monkeypatch, lambda n: True, everything=True)
    with pytest.raises(SolverError, match="non-finite"):
        Simulation(validate_case(_case_1d(3)), tmp_path / "run", log=None).run()
    assert (tmp_path / "run" / "failure_report.json").is_file()


def test_a_restart_moves_the_failure_it_continues_aside(tmp_path, monkeypatch):
    original = _poison_solves(monkeypatch, lambda n: n > 2, everything=True)
    case, out = validate_case(_case_1d(4)), tmp_path / "run"
    with pytest.raises(SolverError, match="non-finite"):
        Simulation(case, out, log=None).run()
    failure = (out / "failure_report.json").read_text()
    monkeypatch.setattr(dolfinx.fem.petsc.NonlinearProblem, "solve", original)
    done = Simulation(case, out, restart=True, log=None).run()
    assert len(done.rows) == 4
    assert not (out / "failure_report.json").exists()
    assert (out / "failure_report.before_restart.json").read_text() == failure
    assert not any("failure_report" in w for w in run_warnings(out))


def test_sigterm_checkpoints_and_restart_matches_uninterrupted_run(tmp_path):
    points = 400
    data = _case_1d(points)
    case = _write(tmp_path, data)
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "ecx_device", "run", str(case), "--out",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    csv = out / "timeseries.csv"
    deadline = time.time() + 120
    while time.time() < deadline:
        if csv.exists() and len(csv.read_text().splitlines()) > 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "--restart" in err and len(err.strip().splitlines()) == 1
    rows = read_series(csv)
    assert 3 <= len(rows) < points
    assert json.loads((out / "checkpoint" / "meta.json").read_text())["completed"] == len(rows)
    assert len(_pvd_steps(out)) == len(rows)

    resumed = _cli("run", str(case), "--restart", str(out))
    assert resumed.returncode == 0, resumed.stderr
    rows = read_series(csv)
    assert [r["bias [V]"] for r in rows] == pytest.approx([i / (points - 1)
                                                           for i in range(points)])
    assert len(_pvd_steps(out)) == points

    reference = Simulation(validate_case(data), tmp_path / "ref", log=None).run().final
    for key in ("current [A]", "wire_T_max [K]", "wire_T_mean [K]"):
        assert rows[-1][key] == pytest.approx(reference[key], rel=1e-10)


def test_sigterm_during_set_up_stops_cleanly_at_the_first_check(tmp_path):
    """SIGTERM while the run builds its mesh and model (as soon as case.resolved.yaml is
    written): the run stops at its first check with the one-line message, exit 143 and
    results.json. Before the handler covered the set-up, PETSc's own SIGTERM handler aborted
    the process there (a PETSc crash dump, MPI_Abort 59, no results.json)."""
    points = 400
    case = _write(tmp_path, _case_1d(points))
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "ecx_device", "run", str(case), "--out",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "case.resolved.yaml").exists():
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "PETSC ERROR" not in err and len(err.strip().splitlines()) == 1, err
    assert "stopped by signal 15" in err and "--restart" in err, err
    results = json.loads((out / "results.json").read_text())
    assert results["complete"] is False
    assert 1 <= len(read_series(out / "timeseries.csv")) < points


def test_restart_refuses_another_case(tmp_path):
    first = validate_case(_case_1d(3))
    Simulation(first, tmp_path / "run", log=None).run()
    other = validate_case(_case_1d(4))
    with pytest.raises(CaseError, match="different case"):
        Simulation(other, tmp_path / "run", restart=True, log=None).run()


def test_checkpoint_fingerprint_survives_an_added_case_key():
    """An ecx_device update that adds a case key with a default (simulated by a case class with
    one more field) must not orphan checkpoints: the fingerprint leaves defaults out. A changed
    value, or the smoke flag, still changes it."""

    class NewerCase(Case):
        future_key: float = 7.0

    case = validate_case(_case_1d(3))
    fingerprint = case_fingerprint(case, False)
    assert case_fingerprint(NewerCase.model_construct(**dict(case)), False) == fingerprint
    changed = NewerCase.model_construct(**dict(case), future_key=8.0)
    assert case_fingerprint(changed, False) != fingerprint
    assert case_fingerprint(case, True) != fingerprint


@pytest.mark.parametrize("directory", ["../outside", "/tmp/abs", "a/../../b"])
def test_output_directory_confined(directory):
    data = _case_1d(3)
    data["outputs"]["directory"] = directory
    with pytest.raises(CaseError, match="outputs.directory"):
        validate_case(data)


def test_mesh_file_missing_or_without_regions(tmp_path):
    data = _case_1d(3)
    data["geometry"]["mesh_file"] = "nowhere.msh"
    from ecx_device.case.loader import load_case

    with pytest.raises(CaseError, match="geometry.mesh_file = 'nowhere.msh': file does not exist"):
        load_case(_write(tmp_path, data))
    import gmsh

    gmsh.initialize()
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add("bare")
    gmsh.model.occ.addRectangle(0, 0, 0, 10, 10)
    gmsh.model.occ.synchronize()
    gmsh.model.addPhysicalGroup(2, [1], name="wire")
    gmsh.model.mesh.generate(2)
    gmsh.write(str(tmp_path / "bare.msh"))
    gmsh.finalize()
    data["geometry"]["mesh_file"] = "bare.msh"
    data["geometry"]["dimension"] = "axisymmetric"
    case = load_case(_write(tmp_path, data))
    with pytest.raises(CaseError, match="lacks the named group.*cu_sink"):
        Simulation(case, tmp_path / "run", log=None).run()


def test_long_run_memory_is_flat(tmp_path):
    """A few hundred bias points of a small case: resident memory must not grow per step."""
    samples: list[tuple[int, int]] = []

    def rss_kib() -> int:
        with open(f"/proc/{os.getpid()}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024

    def log(msg: str) -> None:
        if msg.startswith("["):
            samples.append((len(samples) + 1, rss_kib()))

    Simulation(validate_case(_case_1d(300)), tmp_path / "run", log=log).run()
    early = dict(samples)[50]
    late = dict(samples)[300]
    per_step = (late - early) / 250
    print(f"RSS at step 50: {early} KiB, at step 300: {late} KiB, {per_step:.2f} KiB/step")
    assert per_step < 8.0


@pytest.mark.parametrize("key, value, fragment", [
    ("wire_size", "0.004 nm", "geometry.mesh.contact_size"),
    ("metal_size", "1 nm", "geometry.mesh.wire_size"),
])
def test_geometry_errors_name_case_keys_before_any_output(tmp_path, key, value, fragment):
    data = copy.deepcopy(yaml.safe_load((CASES / "zhang2017_1V.yaml").read_text()))
    data["geometry"]["mesh"][key] = value
    with pytest.raises(CaseError, match=fragment):
        Simulation(validate_case(data), tmp_path / "run", log=None)
    assert not (tmp_path / "run").exists()


def test_mesh_budget_guards_against_unit_slips(tmp_path):
    data = copy.deepcopy(yaml.safe_load((CASES / "zhang2017_1V.yaml").read_text()))
    data["geometry"]["dimension"] = "3d"
    data["geometry"]["cu_electrode"]["radius"] = "200 um"  # um typed for nm
    with pytest.raises(CaseError, match="would have about"):
        Simulation(validate_case(data), tmp_path / "run", log=None)

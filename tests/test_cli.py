"""The command line end to end on small cases: outputs exist and read back; bad input fails cleanly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import pyvista as pv
import yaml

from ecx_device.cli import main
from ecx_device.outputs.quantities import read_series

CASES = Path(__file__).parents[1] / "cases"


@pytest.fixture(scope="module")
def run_1d(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run1d"
    assert main(["run", str(CASES / "zhang2017_1d.yaml"), "--out", str(out)]) == 0
    return out


def test_run_writes_every_output(run_1d):
    for name in ["timeseries.csv", "results.json", "case.resolved.yaml", "references.json",
                 "provenance.json", "axial_profile.csv", "temperature_axis.png",
                 "bias_sweep.png", "fields/fields.pvd"]:
        assert (run_1d / name).is_file(), name
    rows = read_series(run_1d / "timeseries.csv")
    assert len(rows) == 11 and rows[-1]["bias [V]"] == pytest.approx(1.0)
    summary = json.loads((run_1d / "results.json").read_text())
    assert summary["final"]["wire_T_max [K]"] == pytest.approx(rows[-1]["wire_T_max [K]"])
    resolved = yaml.safe_load((run_1d / "case.resolved.yaml").read_text())
    assert resolved["geometry"]["wire"]["diameter"] == pytest.approx(40e-9)
    assert "liu2010_cds_nw" in json.loads((run_1d / "references.json").read_text())


def test_fields_read_back(run_1d):
    reader = pv.PVDReader(str(run_1d / "fields" / "fields.pvd"))
    assert len(reader.time_values) == 11
    reader.set_active_time_value(reader.time_values[-1])
    grid = reader.read()[0]
    assert {"temperature [K]", "potential [V]"} <= set(grid.point_data.keys())
    assert {"current_density [A/m^2]", "joule_heat [W/m^3]", "region"} <= set(
        grid.cell_data.keys())
    T = grid.point_data["temperature [K]"]
    rows = read_series(run_1d / "timeseries.csv")
    # the written P1 field peaks where the solver says (1D P2 nodes include the P1 ones)
    assert T.max() == pytest.approx(rows[-1]["wire_T_max [K]"], rel=1e-6)
    phi = grid.point_data["potential [V]"]
    assert phi.max() == pytest.approx(1.0) and phi.min() == pytest.approx(0.0, abs=1e-12)


def test_refuses_to_overwrite(run_1d, capsys):
    code = main(["run", str(CASES / "zhang2017_1d.yaml"), "--out", str(run_1d)])
    assert code == 2
    assert "not empty" in capsys.readouterr().err


def test_broken_case_one_line_error_and_exit_code(tmp_path):
    data = yaml.safe_load((CASES / "zhang2017_1d.yaml").read_text())
    data["geometry"]["wire"]["diameter"] = "40 kelvin"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    proc = subprocess.run([sys.executable, "-m", "ecx_device", "run", str(bad), "--out",
                           str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "geometry.wire.diameter" in lines[0] and "40 kelvin" in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()  # nothing solved, nothing written


def test_check_command(capsys):
    assert main(["check", str(CASES / "zhang2017_1V.yaml")]) == 0
    assert "5 bias points" in capsys.readouterr().out


def test_mesh_command_writes_msh_vtu_png(tmp_path):
    assert main(["mesh", str(CASES / "zhang2017_1V.yaml"), "--smoke", "--out",
                 str(tmp_path)]) == 0
    stem = tmp_path / "zhang2017_1V_axisymmetric"
    for suffix in (".msh", ".vtu", ".png"):
        assert stem.with_suffix(suffix).stat().st_size > 0
    grid = pv.read(stem.with_suffix(".vtu"))
    # Cu, wire, W and the two contact layers of the sourced thermal boundary conductance
    assert set(grid.cell_data["region"]) == {1, 2, 3, 4, 5}


def test_a_runs_resolved_record_is_refused_as_a_case(run_1d):
    """case.resolved.yaml (SI numbers without units) used to fail on its first number's missing
    unit; given to ``run`` it is now refused in one line that says what it is."""
    from ecx_device.case.loader import load_case
    from ecx_device.errors import CaseError

    with pytest.raises(CaseError, match="resolved case .* not a case file") as err:
        load_case(run_1d / "case.resolved.yaml")
    assert "\n" not in str(err.value)

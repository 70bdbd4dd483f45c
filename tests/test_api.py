"""The Python API: ecx.load_case / Case.replace / ecx.run / ecx.run_iv / ecx.Result."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import pyvista as pv

import ecx_device as ecx
from ecx_device.commands import sweep

CASES = Path(__file__).parents[1] / "cases"
DEFAULT = CASES / "zhang2017_1V.yaml"


# ------------------------------------------------------------------------------ Case.replace


def test_replace_applies_the_settings_and_leaves_the_original():
    case = ecx.load_case(DEFAULT)
    new = case.replace({"bias": "0.5 V", "geometry.wire.diameter": "35 nm"})
    assert new.geometry.wire.diameter == pytest.approx(35e-9, rel=1e-12)
    (hold,) = new.bias.protocol.root
    assert hold.type == "hold" and hold.voltage == 0.5
    assert hold.duration == pytest.approx(1.001)  # as long as the whole protocol: 1 ms + 1 s
    assert case.geometry.wire.diameter == pytest.approx(40e-9, rel=1e-12)
    again = new.replace({"exchange.iv_at_snapshots": "true"})  # a key the file leaves default
    assert again.exchange.iv_at_snapshots is True
    assert again.geometry.wire.diameter == new.geometry.wire.diameter  # earlier settings kept


def test_replace_unknown_key_is_the_sweeps_one_line_error():
    case = ecx.load_case(DEFAULT)
    with pytest.raises(ecx.CaseError) as api:
        case.replace({"geometry.diameter": "30 nm"})
    with pytest.raises(ecx.CaseError) as cli:
        sweep.plan(DEFAULT, {"geometry.diameter": ["30 nm"]})
    message = str(api.value)
    assert "\n" not in message
    assert message.endswith("did you mean geometry.wire.diameter?")
    assert message.replace("case.replace", "--set") == str(cli.value)


def test_replace_misspelt_key_of_a_section_gets_a_hint():
    case = ecx.load_case(DEFAULT)
    with pytest.raises(ecx.CaseError, match=r"exchange.snapshot_time: unknown key; did you mean "
                                            r"exchange.snapshot_times\?"):
        case.replace({"exchange.snapshot_time": "1 s"})


@pytest.mark.parametrize("settings, words", [
    ({"bias": "0.5"}, "missing unit"),
    ({"geometry.wire.diameter": "30 nm"}, "W rim"),  # the device geometry is checked too
])
def test_replace_bad_value_names_key_and_value(settings, words):
    with pytest.raises(ecx.CaseError, match=words) as err:
        ecx.load_case(DEFAULT).replace(settings)
    key, value = next(iter(settings.items()))
    assert f"with {key}={value}:" in str(err.value)


def test_replace_refuses_a_case_changed_behind_its_back():
    case = ecx.load_case(DEFAULT)
    changed = case.model_copy(update={"name": "other"})
    with pytest.raises(ecx.CaseError, match="changed after loading"):
        changed.replace({"bias": "0.5 V"})


# ------------------------------------------------------------------------------ run / Result


def test_run_then_open_give_equal_tables(ohmic_run):
    reopened = ecx.Result.open(ohmic_run.directory)
    pd.testing.assert_frame_equal(ohmic_run.timeseries, reopened.timeseries, check_exact=True)
    table = reopened.timeseries
    results = json.loads((ohmic_run.directory / "results.json").read_text())
    assert len(table) == results["bias_points_completed"] == 2
    assert list(table["bias [V]"]) == [0.9, 1.0]  # the smoke cut: the last two bias points
    assert reopened.final == ohmic_run.final == results["final"]
    assert reopened.final["current [A]"] == table["current [A]"].iloc[-1]
    assert reopened.complete


def test_fields_nearest_frame_with_the_expected_arrays(ohmic_run):
    mesh = ohmic_run.fields(time=0.00091)
    assert isinstance(mesh, pv.UnstructuredGrid)
    assert mesh.field_data["time"][0] == pytest.approx(0.0009)
    assert {"temperature [K]", "potential [V]"} <= set(mesh.point_data)
    assert {"current_density [A/m^2]", "joule_heat [W/m^3]", "region"} <= set(mesh.cell_data)
    last = ohmic_run.fields()  # the last frame: the final state of the table
    T = np.asarray(last.point_data["temperature [K]"])
    assert T.max() == pytest.approx(ohmic_run.final["wire_T_max [K]"], rel=1e-12)
    # 1D lumps the metals into the heat sinks, joined to the wire's end nodes by the sourced
    # contact conductance (G = 1e8 W/(m^2 K) on the 40 nm wire's cross-section A): the Joule
    # power I V leaves through the two ends, G A (T_end - 300 K) each (radiation: ~1e-6 of it)
    x = np.asarray(last.points[:, 0])
    ends = T[[np.argmin(x), np.argmax(x)]]
    G_A = 1e8 * np.pi * (20e-9) ** 2
    power = ohmic_run.final["current [A]"] * ohmic_run.final["bias [V]"]
    assert G_A * (ends - 300.0).sum() == pytest.approx(power, rel=1e-4)
    phi = np.asarray(last.point_data["potential [V]"])
    assert phi.max() == pytest.approx(1.0, abs=1e-9) and phi.min() == pytest.approx(0, abs=1e-9)
    with pytest.raises(ecx.CaseError, match="no field series device_fields"):
        ohmic_run.fields(series="device_fields")


def test_iv_sweep_table(ohmic_iv, ohmic_run):
    table = ohmic_iv.iv()
    pd.testing.assert_frame_equal(table, ohmic_iv.timeseries, check_exact=True)
    v, i = table["bias [V]"].to_numpy(), table["current [A]"].to_numpy()
    assert v[0] == -1.0 and v[-1] == 1.0
    np.testing.assert_allclose(i, -i[::-1], rtol=1e-9)  # the ohmic device is symmetric
    # the same model at 1 V, reached from -1 V in the sweep and from 0.9 V in the run
    assert i[-1] == pytest.approx(ohmic_run.final["current [A]"], rel=1e-8)


def test_iv_of_snapshot_stages(tmp_path, ohmic_iv):
    folder = tmp_path / "run"
    shutil.copytree(ohmic_iv.directory, folder)
    (folder / "iv.csv").unlink()
    with pytest.raises(ecx.CaseError, match="no I-V table"):
        ecx.Result.open(folder).iv()
    for t, scale in (("0.0005", 1.0), ("0.001", 2.0)):
        stage = folder / f"iv_t{t}s"
        stage.mkdir()
        table = ohmic_iv.iv()
        table["current [A]"] *= scale
        table.to_csv(stage / "iv.csv", index=False)
    result = ecx.Result.open(folder)
    assert result.stages == [0.0005, 0.001]
    late = result.iv(stage=0.0009)  # the nearest stage: 1 ms
    assert late["current [A]"].iloc[-1] == 2.0 * ohmic_iv.iv()["current [A]"].iloc[-1]
    with pytest.raises(ecx.CaseError, match=r"give the stage, one of \[0.0005, 0.001\]"):
        result.iv()


def test_open_refuses_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(ecx.CaseError, match="not a run folder") as err:
        ecx.Result.open(tmp_path)
    assert "\n" not in str(err.value)


def test_run_accepts_a_path_and_refuses_a_bad_case(tmp_path):
    with pytest.raises(ecx.CaseError, match="does not exist"):
        ecx.run(tmp_path / "missing.yaml", out=tmp_path / "x", log=None)
    assert not (tmp_path / "x").exists()


def test_import_is_cheap():
    code = ("import sys, ecx_device as ecx; ecx.Result, ecx.run, ecx.CaseError; "
            "heavy = [m for m in sys.modules if m.split('.')[0] in "
            "('dolfinx', 'petsc4py', 'pandas', 'pyvista', 'pydantic', 'pint')]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

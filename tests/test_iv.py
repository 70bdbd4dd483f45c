"""``ecx-device iv``: the I-V sweep at frozen composition.

In the 1D ohmic wire with identical heat sinks at both ends the problem is symmetric under
V -> -V, so I(-V) = -I(V) exactly; a steady model has no hysteresis, so the return sweep repeats
the forward one. Both are checked to solver tolerance.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import pyvista as pv
import yaml

from ecx_device.case.loader import validate_case
from ecx_device.cli import main
from ecx_device.errors import CaseError
from ecx_device.materials import load_material
from ecx_device.outputs.quantities import read_series
from ecx_device.runs.simulation import Simulation
from ecx_device.units import ELEMENTARY_CHARGE

CASES = Path(__file__).parents[1] / "cases"


def _case(**iv) -> dict:
    data = copy.deepcopy(yaml.safe_load((CASES / "zhang2017_1d.yaml").read_text()))
    data["iv"] = iv
    return data


def test_iv_symmetric_and_without_hysteresis(tmp_path):
    case = validate_case(_case(start="-1 V", stop="1 V", step="0.25 V", return_sweep=True,
                               field_biases=["-1 V", "0.5 V"]))
    rows = Simulation(case, tmp_path / "iv", log=None).run_iv().rows
    v = np.array([r["bias [V]"] for r in rows])
    i = np.array([r["current [A]"] for r in rows])
    assert len(rows) == 17 and v[0] == -1.0 and v[8] == 1.0 and v[-1] == -1.0
    forward = dict(zip(v[:9].round(9), i[:9]))
    for bias, current in forward.items():
        assert forward[round(-bias, 9)] == pytest.approx(-current, rel=1e-9, abs=1e-20)
    np.testing.assert_allclose(i[9:], i[:8][::-1], rtol=1e-9, atol=1e-20)  # I(0) is round-off
    assert read_series(tmp_path / "iv" / "iv.csv")[-1]["current [A]"] == pytest.approx(i[-1])
    assert (tmp_path / "iv" / "iv.png").stat().st_size > 0
    reader = pv.PVDReader(str(tmp_path / "iv" / "fields" / "fields.pvd"))
    assert reader.time_values == pytest.approx([-1.0, 0.5])  # the bias is the time axis


def test_iv_cli_and_bad_section(tmp_path, capsys):
    case = tmp_path / "c.yaml"
    case.write_text(yaml.safe_dump(_case(start="0 V", stop="0.2 V", step="0.1 V")))
    assert main(["iv", str(case), "--out", str(tmp_path / "o")]) == 0
    assert len(read_series(tmp_path / "o" / "iv.csv")) == 3
    with pytest.raises(CaseError, match="iv.step"):
        validate_case(_case(step="-0.1 V"))
    with pytest.raises(CaseError, match="stop must differ"):
        validate_case(_case(start="1 V", stop="1 V"))


def test_self_heated_drift_diffusion_sweep_is_symmetric_and_writes_temperature(tmp_path):
    """A 1D Cu2S wire (uniform X = 1, ohmic at both ends, identical heat sinks) with the
    self-heated drift-diffusion model: mirror symmetry gives I(-V) = -I(V) and the same heating
    both ways, the return sweep repeats the forward one (a steady model has no hysteresis), and
    the wire temperature is among the ParaView fields."""
    data = _case(start="-0.2 V", stop="0.2 V", step="0.1 V", return_sweep=True,
                 field_biases=["0.2 V"])
    data["composition"] = {"shape": "uniform", "fraction": 1}
    data["electrical"] = {"wire_model": "drift_diffusion"}
    data["geometry"]["mesh"]["wire_size"] = "4 nm"
    rows = Simulation(validate_case(data), tmp_path / "iv", log=None).run_iv().rows
    i = np.array([r["cathode_current [A]"] for r in rows])
    t = np.array([r["wire_T_max [K]"] for r in rows])
    assert t.max() > 350  # the coupling matters
    np.testing.assert_allclose(i[:5], -i[:5][::-1], rtol=1e-7, atol=1e-20)
    np.testing.assert_allclose(t[:5], t[:5][::-1], rtol=0, atol=1e-5)
    np.testing.assert_allclose(i[5:], i[:4][::-1], rtol=1e-7, atol=1e-20)
    assert max(r["power_balance_error [-]"] for r in rows) < 1e-10
    # a one-way sweep is solved outward from 0 V (0, -0.1, -0.2, then 0.1, 0.2 from the 0 V
    # state): its rows come back in sweep order with the forward sweep's steady states
    data["iv"] = {"start": "-0.2 V", "stop": "0.2 V", "step": "0.1 V"}
    one_way = Simulation(validate_case(data), tmp_path / "one_way", log=None).run_iv().rows
    assert [r["bias [V]"] for r in one_way] == pytest.approx([-0.2, -0.1, 0.0, 0.1, 0.2])
    assert [r["bias [V]"] for r in read_series(tmp_path / "one_way" / "iv.csv")] == \
        pytest.approx([-0.2, -0.1, 0.0, 0.1, 0.2])
    np.testing.assert_allclose([r["cathode_current [A]"] for r in one_way], i[:5], rtol=1e-7,
                               atol=1e-20)
    reader = pv.PVDReader(str(tmp_path / "iv" / "fields" / "fields.pvd"))
    reader.set_active_time_value(reader.time_values[0])
    assert "temperature [K]" in reader.read()[0].point_data
    # the device's temperature, the metals' too (in 1D the device is the wire between the sinks)
    device = pv.PVDReader(str(tmp_path / "iv" / "device_fields" / "fields.pvd"))
    device.set_active_time_value(device.time_values[0])
    grid = device.read()[0]
    wire = reader.read()[0]
    # the heat solution and the carriers' temperature agree to the electro-thermal tolerance
    # (1e-6 K) at every output point; the P2 peak may sit between the P1 output's vertices
    np.testing.assert_allclose(grid.point_data["temperature [K]"],
                               wire.point_data["temperature [K]"], rtol=0, atol=1e-5)
    assert 0 <= rows[4]["wire_T_max [K]"] - grid.point_data["temperature [K]"].max() < 0.05
    assert "heat_source [W/m^3]" in grid.cell_data
    # the hole density of the Cu2S wire is its doping and its mobility has no temperature law, so
    # heating leaves the current at the ohmic value q mu_p N_A A V / L, as the isothermal model
    cu2s = load_material("Cu2S")
    g = (ELEMENTARY_CHARGE * cu2s("hole_mobility", 300.0) * cu2s("acceptor_density", 300.0)
         * math.pi * (20e-9) ** 2 / 300e-9)  # 40 nm wire; in 1D the 300 nm between the sinks
    assert rows[4]["cathode_current [A]"] == pytest.approx(0.2 * g, rel=1e-6)
    data["electrical"]["self_heating"] = False
    data["iv"] = {"start": "0.2 V", "stop": "0.1 V", "step": "0.1 V"}
    cold = Simulation(validate_case(data), tmp_path / "iso", log=None).run_iv().rows
    # solved from 0 V outward (0.1 V, then 0.2 V); the rows and results.json's final row are
    # those of the sweep's order, which ends at 0.1 V
    assert [r["bias [V]"] for r in cold] == pytest.approx([0.2, 0.1])
    final = json.loads((tmp_path / "iso" / "results.json").read_text())["final"]
    assert final["bias [V]"] == pytest.approx(0.1)
    assert "wire_T_max [K]" not in cold[0]
    assert cold[0]["cathode_current [A]"] == pytest.approx(0.2 * g, rel=1e-6)

"""The drift-diffusion wire model in the device: the pristine Cu-CdS-W wire (stage a) has two
Schottky contacts, so its I-V is that of back-to-back diodes: low current both ways, the sign
following the bias, current conserved between the two contacts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyvista as pv

from ecx_device.case import load_case
from ecx_device.runs.simulation import Simulation

CASE = Path(__file__).parents[1] / "cases" / "zhang2017_stage_a_dd.yaml"


def test_back_to_back_schottky(tmp_path):
    case = load_case(CASE)
    iv = case.iv.model_copy(update={"start": -0.3, "stop": 0.3, "step": 0.3,
                                    "field_biases": [0.3]})
    rows = Simulation(case.model_copy(update={"iv": iv}), tmp_path / "iv", smoke=True,
                      log=None).run_iv().rows
    current = {round(r["bias [V]"], 6): r for r in rows}
    forward, reverse = current[0.3]["current [A]"], current[-0.3]["current [A]"]
    assert forward > 0 > reverse
    # an ohmic wire of the same CdS carries ~1e-7 A at 0.3 V: both barriers block it by > 1e4
    assert abs(forward) < 1e-11 and abs(reverse) < 1e-11
    # nearly symmetric (within a decade): both directions are limited by a reverse-biased contact
    assert 0.1 < abs(forward / reverse) < 10
    for r in rows:
        assert r["current_mismatch [-]"] < 1e-6
    # the band diagram written for ParaView: E_c - E_v is the band gap everywhere, and at +0.3 V
    # the electron quasi-Fermi level stays between the two metals' Fermi levels (-0.3 eV at Cu,
    # 0 at W); at the Schottky contacts it may sit inside that range (thermionic emission)
    reader = pv.PVDReader(str(tmp_path / "iv" / "fields" / "fields.pvd"))
    reader.set_active_time_value(0.3)
    grid = reader.read()[0]
    gap = grid.point_data["conduction_band_edge [eV]"] - grid.point_data["valence_band_edge [eV]"]
    np.testing.assert_allclose(gap, 2.42, rtol=1e-9)
    assert {"electron_density [m^-3]", "hole_density [m^-3]"} <= set(grid.cell_data.keys())
    efn = grid.point_data["electron_quasi_fermi_level [eV]"]
    assert -0.3 - 1e-9 <= efn.min() < efn.max() <= 1e-9
    print(f"E_Fn spans {efn.min():.4f} .. {efn.max():.4f} eV at +0.3 V")

"""The run summary's headline: a particle run has a hot spot but no wire axis to place it on
(its summary used to fail with "unsupported format string passed to NoneType.__format__")."""

from __future__ import annotations

from ecx_device.outputs.registry import BIAS, CURRENT, WIRE_T_MAX, WIRE_T_MAX_POSITION
from ecx_device.outputs.summary import headline


def test_a_particle_row_has_no_hot_spot_position():
    row = {BIAS: 0.0, CURRENT: 0.0, WIRE_T_MAX: 398.15, WIRE_T_MAX_POSITION: None}
    assert headline(row) == "V = +0.000 V, I = 0 A, T_max = 398.1 K"


def test_a_wire_row_places_its_hot_spot():
    row = {BIAS: 1.0, CURRENT: 2.5e-12, WIRE_T_MAX: 512.34, WIRE_T_MAX_POSITION: 84.5}
    assert headline(row) == "V = +1.000 V, I = 2.5e-12 A, T_max = 512.3 K at z = 84.5 nm"

"""Materials database: every value has a source, models evaluate correctly, errors help."""

from __future__ import annotations

import numpy as np
import pytest

from ecx_device.errors import CaseError
from ecx_device.materials import available_materials, load_material
from ecx_device.materials.database import references
from ecx_device.materials.properties import Arrhenius, Table, parse_property
from ecx_device.units import BOLTZMANN, ELEMENTARY_CHARGE


def test_every_property_cites_a_known_reference():
    refs = references()
    for name in available_materials():
        mat = load_material(name)
        assert mat.properties
        for prop, model in mat.properties.items():
            assert model.source and all(s in refs for s in model.source), (name, prop)


def test_copper_conductivity_follows_linear_resistivity():
    cu = load_material("Cu")
    assert cu("electrical_conductivity", 293.0) == pytest.approx(1 / 1.68e-8)
    assert cu("electrical_conductivity", 393.0) == pytest.approx(1 / (1.68e-8 * 1.39))


def test_table_interpolates_and_clamps():
    k = Table(unit="W/(m K)", temperature=(300.0, 400.0, 600.0), values=(401.0, 393.0, 379.0))
    T = np.array([200.0, 300.0, 350.0, 500.0, 600.0, 900.0])
    assert k(T) == pytest.approx([401.0, 401.0, 397.0, 386.0, 379.0, 379.0])


def test_arrhenius_ratio():
    ea = 0.1 * ELEMENTARY_CHARGE
    m = Arrhenius(unit="S/m", value=80.0, activation_energy=ea, reference_temperature=300.0)
    assert m(600.0) / m(300.0) == pytest.approx(np.exp(ea / BOLTZMANN * (1 / 300 - 1 / 600)))


def test_unknown_material_suggests_close_name():
    with pytest.raises(CaseError, match="did you mean CdS_nanowire"):
        load_material("CdS_nanowir")


def test_override_is_a_constant_with_units():
    mat = load_material("CdS_nanowire").with_overrides(
        {"thermal_conductivity": "5 W/(m K)"}, "materials.overrides.wire")
    assert mat("thermal_conductivity", 800.0) == pytest.approx(5.0)
    with pytest.raises(CaseError, match="materials.overrides.wire.thermal_conductivity"):
        load_material("Cu").with_overrides({"thermal_conductivity": "5 K"},
                                           "materials.overrides.wire")


def test_unknown_property_and_model_rejected():
    with pytest.raises(ValueError, match="unknown property 'colour'"):
        parse_property("colour", "5 W/(m K)", "x")
    with pytest.raises(ValueError, match="model = 'cubic'"):
        parse_property("density", {"model": "cubic"}, "x")


def test_schottky_barriers_have_sources_and_unknown_pairs_are_errors():
    from ecx_device.materials.database import _barriers, schottky_barrier

    refs = references()
    for metal, table in _barriers().items():
        for semiconductor, entry in table.items():
            assert entry["source"] and all(s in refs for s in entry["source"])
            assert 0.0 <= schottky_barrier(metal, semiconductor) < 2.0
    assert schottky_barrier("Cu", "CdS_nanowire") == pytest.approx(0.50)
    with pytest.raises(CaseError, match="no Schottky barrier for Au"):
        schottky_barrier("Au", "CdS_nanowire")

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


# --- temperature laws of the semiconductor data: power_law, matthiessen, varshni ---

def _power_law(value=2.0, exponent=-0.7):
    return parse_property("electron_mobility", {
        "model": "power_law", "value": f"{value} cm^2/(V s)", "reference_temperature": "300 K",
        "exponent": exponent, "source": ["x"]}, "w")


def _matthiessen(value="10 cm^2/(V s)", lattice="340 cm^2/(V s)", exponent=-1.5):
    return parse_property("electron_mobility", {
        "model": "matthiessen", "value": value, "lattice_value": lattice,
        "reference_temperature": "300 K", "exponent": exponent, "source": ["x"]}, "w")


def _varshni(alpha="5e-4 eV/K", beta="300 K"):
    return parse_property("band_gap", {
        "model": "varshni", "value": "2.42 eV", "alpha": alpha, "beta": beta,
        "reference_temperature": "300 K", "source": ["x"]}, "w")


TEMPS = np.array([150.0, 300.0, 450.0, 600.0, 1000.0])


def test_power_law_follows_its_formula():
    m = _power_law()
    assert m(300.0) == 2.0e-4  # exactly the value at the reference temperature
    assert m(TEMPS) == pytest.approx(2.0e-4 * (TEMPS / 300.0) ** -0.7, rel=1e-13)
    assert _power_law(exponent="1.5")(600.0) == pytest.approx(2.0e-4 * 2**1.5, rel=1e-13)


def test_matthiessen_follows_its_formula():
    m = _matthiessen()
    assert m(300.0) == 10e-4
    mu, lat = 10e-4, 340e-4
    expected = 1 / (1 / mu - 1 / lat + 1 / (lat * (TEMPS / 300.0) ** -1.5))
    assert m(TEMPS) == pytest.approx(expected, rel=1e-13)
    # bounded by the defect part from above and falling with T for a phonon exponent < 0
    assert np.all(np.diff(m(TEMPS)) < 0) and np.all(m(TEMPS) < 1 / (1 / mu - 1 / lat))


def test_varshni_follows_its_formula_in_si_joules():
    m = _varshni()
    eg0, alpha = 2.42 * ELEMENTARY_CHARGE, 5e-4 * ELEMENTARY_CHARGE

    def shape(T):
        return T**2 / (T + 300.0)

    assert m(300.0) == eg0
    assert m(TEMPS) == pytest.approx(eg0 - alpha * (shape(TEMPS) - shape(300.0)), rel=1e-13)
    assert m(1000.0) / ELEMENTARY_CHARGE == pytest.approx(2.42 - 5e-4 * (1e6 / 1300 - 150))


def test_semiconductor_data_keep_300K_values_and_follow_their_laws():
    cds, cu2s = load_material("CdS_nanowire"), load_material("Cu2S")
    cm3 = 1e6  # m^-3 per cm^-3
    assert cds("conduction_band_dos", 300.0) == pytest.approx(2.41e18 * cm3, rel=1e-15)
    assert cds("valence_band_dos", 300.0) == pytest.approx(1.80e19 * cm3, rel=1e-15)
    assert cds("electron_mobility", 300.0) == pytest.approx(10e-4, rel=1e-15)
    assert cds("hole_mobility", 300.0) == pytest.approx(1.2e-4, rel=1e-15)
    assert cds("band_gap", 300.0) == pytest.approx(2.42 * ELEMENTARY_CHARGE, rel=1e-15)
    for mat in (cds, cu2s):
        for prop in ("conduction_band_dos", "valence_band_dos"):
            assert mat(prop, 600.0) / mat(prop, 300.0) == pytest.approx(2**1.5, rel=1e-13)
    mu_n_600 = 1 / (1 / 10 - 1 / 340 + 2**1.5 / 340) * 1e-4
    assert cds("electron_mobility", 600.0) == pytest.approx(mu_n_600, rel=1e-13)
    assert cds("band_gap", 600.0) / ELEMENTARY_CHARGE == pytest.approx(
        2.42 - 5e-4 * (600**2 / 900 - 150))
    for prop in ("electron_mobility", "hole_mobility", "band_gap"):  # no T data for Cu2S
        assert cu2s(prop, 900.0) == cu2s(prop, 300.0)


def test_temperature_laws_agree_between_numpy_and_ufl():
    from ecx_device.fem import MPI, dolfinx, ufl
    from ecx_device.materials.properties import UflOps

    mesh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, 2)
    Tc = dolfinx.fem.Constant(mesh, 300.0)
    cds = load_material("CdS_nanowire")
    models = [_power_law(), _matthiessen(), _varshni()] + [cds.properties[p] for p in (
        "conduction_band_dos", "valence_band_dos", "electron_mobility", "hole_mobility",
        "band_gap")]
    for model in models:
        form = dolfinx.fem.form(model(Tc, UflOps) * ufl.dx(domain=mesh))
        for t in (250.0, 300.0, 600.0, 900.0):
            Tc.value = t
            assert dolfinx.fem.assemble_scalar(form) == pytest.approx(model(t), rel=1e-12), (
                model.kind, t)
    # a UFL expression of T, as the non-isothermal wire will pass
    Tc.value = 400.0
    form = dolfinx.fem.form(cds("electron_mobility", 1.5 * Tc, UflOps) * ufl.dx(domain=mesh))
    assert dolfinx.fem.assemble_scalar(form) == pytest.approx(
        cds("electron_mobility", 600.0), rel=1e-12)


def test_temperature_law_inputs_are_validated_with_the_key_path():
    import re

    assert _power_law(exponent="-2.5")(600.0) == pytest.approx(2.0e-4 * 2**-2.5)  # negative ok
    bad = [
        (lambda: _matthiessen(lattice="10 cm^2/(V s)"),
         "w.lattice_value = '10 cm^2/(V s)': must exceed value"),
        (lambda: _matthiessen(lattice="5 cm^2/(V s)"), "w.lattice_value"),
        (lambda: _matthiessen(exponent=float("inf")), "w.exponent = inf: must be finite"),
        (lambda: _power_law(exponent=float("nan")), "w.exponent = nan: must be finite"),
        (lambda: _power_law(exponent="1.5 K"), "w.exponent = '1.5 K'"),
        (lambda: _varshni(beta="-300 K"), "w.beta = '-300 K': must be positive"),
        (lambda: _varshni(beta="0 K"), "w.beta"),
        (lambda: _varshni(alpha="-5e-4 eV/K"), "w.alpha = '-5e-4 eV/K': must be >= 0"),
        (lambda: _varshni(alpha="5e-4 eV"), "w.alpha = '5e-4 eV': wrong unit"),
        (lambda: parse_property("band_gap", {"model": "varshni", "value": "2.42 eV",
                                             "alpha": "5e-4 eV/K",
                                             "reference_temperature": "300 K"}, "w"),
         "w.beta: missing"),
        (lambda: parse_property("conduction_band_dos", {"model": "power_law",
                                                        "value": "1e18 cm^-3",
                                                        "reference_temperature": "300 K"}, "w"),
         "w.exponent: missing"),
        (lambda: _power_law(value=-2.0), "w.value = '-2.0 cm^2/(V s)': must be positive"),
    ]
    for make, message in bad:
        with pytest.raises(ValueError, match=re.escape(message)) as err:
            make()
        assert "\n" not in str(err.value)


def test_cu2s_ohmic_conductivity_is_its_hole_conductivity():
    """One Cu2S: the ohmic wire's conductivity is q N_A mu_p of the drift-diffusion data (the
    degenerate p-type chalcocite has p = N_A), at 300 K and at 600 K (both constant in T)."""
    from ecx_device.units import ELEMENTARY_CHARGE

    cu2s = load_material("Cu2S")
    for T in (300.0, 600.0):
        sigma = float(cu2s("electrical_conductivity", T))
        holes = ELEMENTARY_CHARGE * cu2s("acceptor_density", T) * cu2s("hole_mobility", T)
        assert sigma == pytest.approx(float(holes), rel=2e-3)

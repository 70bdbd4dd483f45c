"""Ion-specific transport of the anode metals (issue 12 item 4): each metal's interstitial-ion
diffusivity in CdS is read from materials/data/anodes.yaml in SI, Cu's is the host's Sullivan
data, and the exchange scales the host's Cu+ diffusivity by D_M(T)/D_Cu(T). Expected values are
worked here by hand from the numbers written in the data file."""

from __future__ import annotations

import contextlib
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from ecx_device.errors import CaseError
from ecx_device.materials import anode_metal, available_anodes, load_material

ROOT = Path(__file__).parents[2]
DATA = ROOT / "ecx_device" / "materials" / "data"
EV = 1.602176634e-19  # J
K_B = 1.380649e-23  # J/K
CM2 = 1e-4  # m^2 per cm^2


def _raw(metal: str) -> tuple[float, float]:
    """(D0 in cm^2/s, E_m in eV) as written in anodes.yaml, parsed here by hand."""
    block = yaml.safe_load((DATA / "anodes.yaml").read_text())["metals"][metal]["ion_transport"]
    d0 = re.fullmatch(r"(\S+) cm\^2/s", block["diffusivity_prefactor"]["value"])
    em = re.fullmatch(r"(\S+) eV", block["migration_energy"]["value"])
    assert d0 and em, block
    return float(d0.group(1)), float(em.group(1))


@pytest.mark.parametrize("metal", ["Cu", "Li", "Ag", "Au", "Pt", "Al", "Mo", "Ni"])
def test_ion_transport_is_read_from_the_data_in_si(metal):
    d0_cm2, em_ev = _raw(metal)
    m = anode_metal(metal)
    assert m.ion_diffusivity_prefactor == pytest.approx(d0_cm2 * CM2, rel=1e-12)
    assert m.ion_migration_energy == pytest.approx(em_ev * EV, rel=1e-12)
    T = 650.0
    assert m.ion_diffusivity(T) == pytest.approx(d0_cm2 * CM2 * math.exp(-em_ev * EV / (K_B * T)),
                                                 rel=1e-12)
    assert {"ion_diffusivity_prefactor", "ion_migration_energy"} <= set(m.sources)


def test_copper_ion_data_are_the_hosts_sullivan_data_and_the_others_are_flagged():
    """Cu's ion data are the host's cu_ion_diffusivity (Sullivan 1969: 2.1e-3 cm^2/s, 0.96 eV),
    so a Cu anode runs as before; every other metal's are estimates (flag E)."""
    from ecx_device.materials.database import references

    cu = anode_metal("Cu")
    host = load_material("CdS_nanowire").properties["cu_ion_diffusivity"]
    assert (cu.ion_diffusivity_prefactor, cu.ion_migration_energy) == (
        host.prefactor, host.activation_energy)
    assert cu.ion_diffusivity_prefactor == pytest.approx(2.1e-3 * CM2, rel=1e-12)
    assert cu.ion_migration_energy == pytest.approx(0.96 * EV, rel=1e-12)
    refs = references()
    assert refs["sullivan1969"]["flag"] == "S"
    for metal in set(available_anodes()) - {"Cu"}:
        for field in ("ion_diffusivity_prefactor", "ion_migration_energy"):
            for key in anode_metal(metal).sources[field]:
                assert refs[key]["flag"] == "E" and "estimate" in refs[key]["citation"], metal


#: The estimate rule of references.yaml (ion_migration_estimate), by hand: E_m = 0.96 eV +
#: 1.5e-4 eV/pm^2 (r_M - r_Cu)_+^2 + 0.5 eV (z - 1), the radii (pm) at the same coordination
#: (Shannon, parameters.md section 6): (r_M, r_Cu, z).
RULE_INPUTS = {"Li": (59, 60, 1), "Ag": (100, 60, 1), "Au": (137, 77, 1), "Pt": (60, 60, 2),
               "Al": (39, 60, 3), "Mo": (69, 77, 3), "Ni": (55, 60, 2)}


@pytest.mark.parametrize("metal", sorted(RULE_INPUTS))
def test_estimated_migration_energies_follow_the_stated_rule(metal):
    r_m, r_cu, z = RULE_INPUTS[metal]
    expected = 0.96 + 1.5e-4 * max(r_m - r_cu, 0) ** 2 + 0.5 * (z - 1)
    assert _raw(metal)[1] == pytest.approx(expected, abs=5e-3)  # written to 0.01 eV
    assert anode_metal(metal).ion_charge == z


def _case(metal: str):
    from ecx_device.case.loader import validate_case

    data = yaml.safe_load((ROOT / "cases" / "zhang2017_1V.yaml").read_text())
    data["exchange"]["anode"] = metal
    return validate_case(data)


@pytest.mark.parametrize("metal", ["Cu", "Li", "Ag", "Au", "Pt", "Al", "Mo", "Ni"])
@pytest.mark.parametrize("T", [500.0, 800.0])
def test_diffusivity_ratio_is_the_arrhenius_ratio(metal, T):
    """The run's anode kinetics carry D_M(T)/D_Cu(T) = (D0_M/D0_Cu) exp(-(E_M - E_Cu)/kT),
    worked here from the yaml numbers; exactly 1 for Cu."""
    from ecx_device.models import anode_kinetics

    kin = anode_kinetics(_case(metal))
    (d0_m, e_m), (d0_cu, e_cu) = _raw(metal), _raw("Cu")
    expected = d0_m / d0_cu * math.exp(-(e_m - e_cu) * EV / (K_B * T))
    assert kin.diffusivity_ratio(T, np) == pytest.approx(expected, rel=1e-12)
    assert kin.migration_energy_shift == pytest.approx((e_m - e_cu) * EV, rel=1e-12, abs=1e-30)
    if metal == "Cu":
        assert kin.diffusivity_ratio(T, np) == 1.0 and kin.migration_energy_shift == 0.0


def test_unknown_anode_is_a_one_line_case_error_naming_the_key():
    from ecx_device.models import anode_kinetics

    with pytest.raises(CaseError, match=r"exchange\.anode = 'Zz'.*unknown anode metal") as err:
        anode_kinetics(_case("Zz"))
    assert "\n" not in str(err.value)


@contextlib.contextmanager
def _edited_anodes(monkeypatch, edit):
    """anodes.yaml as ``edit`` (a function of the parsed data) leaves it, for the block; the
    loader's cache is cleared on entry and exit."""
    from ecx_device.materials import database

    data = yaml.safe_load((DATA / "anodes.yaml").read_text())
    edit(data)
    monkeypatch.setattr(database, "_anodes", lambda: data)
    database.anode_metal.cache_clear()
    try:
        yield database
    finally:
        monkeypatch.undo()
        database.anode_metal.cache_clear()


def _transport(metal, change):
    return lambda data: change(data["metals"][metal]["ion_transport"])


@pytest.mark.parametrize(("metal", "edit", "message"), [
    ("Ag", _transport("Ag", lambda b: b.pop("migration_energy")),
     r"anodes/Ag\.ion_transport\.migration_energy: missing"),
    ("Li", _transport("Li", lambda b: b["diffusivity_prefactor"].update(value="-1e-3 cm^2/s")),
     r"anodes/Li\.ion_transport\.diffusivity_prefactor = '-1e-3 cm\^2/s': expected a positive"),
    ("Ni", _transport("Ni", lambda b: b["migration_energy"].update(value="1 V")),
     r"anodes/Ni\.ion_transport\.migration_energy\.value = '1 V': wrong unit"),
    ("Pt", _transport("Pt", lambda b: b["migration_energy"].update(source=["no_such_key"])),
     r"anodes/Pt\.ion_transport\.migration_energy\.source: keys \['no_such_key'\]"),
    ("Au", lambda data: data["metals"]["Au"].pop("ion_transport"),
     r"anodes/Au: missing key 'ion_transport'"),
])
def test_bad_ion_transport_data_is_a_one_line_error_naming_the_key(monkeypatch, metal, edit,
                                                                    message):
    with _edited_anodes(monkeypatch, edit) as database:
        with pytest.raises(ValueError, match=message) as err:
            database.anode_metal(metal)
        assert "\n" not in str(err.value)


def test_the_prefactor_ratio_reaches_the_run(monkeypatch):
    """Every shipped D0 is Cu's, so the ratio D0_M / D0_Cu is 1 in the data: halve Ag's D0
    (1.05e-3 cm^2/s) and the run's ratio at 600 K must be 0.5 exp(-(1.20 - 0.96) eV / kT)."""
    from ecx_device.models import anode_kinetics

    with _edited_anodes(monkeypatch, _transport("Ag", lambda b: b["diffusivity_prefactor"].update(
            value="1.05e-3 cm^2/s"))):
        kin = anode_kinetics(_case("Ag"))
        T = 600.0
        assert kin.diffusivity_ratio(T, np) == pytest.approx(
            0.5 * math.exp(-0.24 * EV / (K_B * T)), rel=1e-9)


@pytest.mark.parametrize("host", ["CdS_nanowire", "CdSe_wurtzite", "CdSe_zincblende", "PbS"])
def test_hop_distance_is_host_data_with_a_source(host):
    """The hop distance of the uptake limit and the surface supply is host data (0.3 nm,
    parameters.md section 7), no longer a constant of the physics module."""
    from ecx_device.physics import exchange

    mat = load_material(host)
    assert mat("interstitial_hop_distance", 600.0) == pytest.approx(0.3e-9, rel=1e-12)
    assert mat.properties["interstitial_hop_distance"].source == ("hop_distance_estimate",)
    assert not hasattr(exchange, "HOP_DISTANCE")

"""Particles without electrodes (geometry.particle; issue 13): the meshes, the one-line case
errors, and a PbS nanocrystal in a bath run end to end, with a core@shell EELS map."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from ecx_device.case.loader import read_yaml, validate_case
from ecx_device.device.from_case import device_geometry
from ecx_device.device.geometry import ParticleDonor, ParticleGeometry
from ecx_device.errors import CaseError
from ecx_device.fem import dolfinx
from ecx_device.mesh import Domain
from ecx_device.physics.base import integrate

CASES = Path(__file__).resolve().parents[1] / "cases"


def _measure(domain: Domain, facet: str | None = None) -> float:
    one = dolfinx.fem.Constant(domain.mesh, 1.0)
    form = domain.surface(one, facet) if facet else domain.volume(one)
    return integrate(form, domain.mesh.comm) * 1e27 ** (1 if facet is None else 2 / 3)


def test_particle_meshes_have_the_analytic_volume_and_contact_areas():
    """A sphere's volume to the polygon error (3e-4 at 0.2 nm), a rod's and its end-face disk and
    side band to round-off; the facet groups are named."""
    sphere = Domain.from_geometry(ParticleGeometry("axisymmetric", "sphere", 8.0,
                                                   mesh_size=0.2, contact_mesh_size=0.2))
    assert set(sphere.facets) == {"wire_surface", "axis"}
    assert _measure(sphere) == pytest.approx(4 / 3 * math.pi * 4.0**3, rel=1e-3)
    rod = ParticleGeometry("axisymmetric", "rod", 40.0, 120.0,
                           donors=(ParticleDonor("top", 5.0), ParticleDonor("side", 4.0, z=60.0)),
                           mesh_size=4.0, contact_mesh_size=2.0)
    mesh = Domain.from_geometry(rod)
    assert _measure(mesh) == pytest.approx(math.pi * 20.0**2 * 120.0, rel=1e-12)
    assert _measure(mesh, "donor_0") == pytest.approx(math.pi * 5.0**2, rel=1e-12)
    assert _measure(mesh, "donor_1") == pytest.approx(2 * math.pi * 20.0 * 8.0, rel=1e-12)
    assert rod.donor_area(rod.donors[1]) == pytest.approx(2 * math.pi * 20.0 * 8.0)


def _sphere_case(**exchange):
    data = read_yaml(CASES / "robinson2021_pbs_cds_sphere.yaml")
    data["exchange"].update(exchange)
    return data


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["exchange"].update(kinetics="bulk"), "exchange.kinetics = 'bulk'"),
    (lambda d: d["exchange"].update(sublimation=True), "exchange.sublimation = true"),
    (lambda d: d["exchange"].update(cu_source="donors"), "exchange.cu_source = 'donors'"),
    (lambda d: d["exchange"].update(reaction_zone_width="0.1 nm"),
     "exchange.reaction_zone_width = 0.1 nm"),
    (lambda d: d["bias"]["protocol"][0].update(voltage="1 V"), "bias.protocol: voltages"),
    (lambda d: d["geometry"]["particle"].update(donors=[{"at": "top", "radius": "1 nm"}]),
     "geometry.particle.shape: 'sphere'"),
])
def test_particle_case_errors_are_one_line(edit, message):
    data = _sphere_case()
    edit(data)
    case = validate_case(data)
    with pytest.raises(CaseError, match=message) as err:
        device_geometry(case)
    assert "\n" not in str(err.value)


def test_front_kinetics_on_the_device_is_refused():
    data = read_yaml(CASES / "casu2023_wurtzite.yaml")
    data["exchange"]["kinetics"] = "front"
    from ecx_device.models import build_model

    with pytest.raises(CaseError, match="needs geometry.particle"):
        build_model(validate_case(data))


@pytest.fixture(scope="module")
def sphere_run(tmp_path_factory):
    """The shipped PbS nanocrystal case, smoke-sized (60 s of the 175 C bath), fields on."""
    from ecx_device.case import load_case
    from ecx_device.runs.simulation import Simulation

    out = tmp_path_factory.mktemp("sphere")
    case = load_case(CASES / "robinson2021_pbs_cds_sphere.yaml")
    result = Simulation(case, out, smoke=True, log=None).run()
    return out, result.rows


def test_sphere_in_a_bath_grows_a_shell_with_closed_balances(sphere_run):
    """The shell thickens monotonically; the Cd (guest) balance closes to 1e-9 at every step, the
    Pb (host) balance too at the end (early on, a change of 1e-4 atoms against an inventory of
    3e3 leaves round-off of ~1e-9 of it); the guest entered equals the entry law's integral."""
    _, rows = sphere_run
    shells = [r["shell_thickness [nm]"] for r in rows]
    assert shells[-1] > shells[0] and all(b >= a - 1e-12 for a, b in zip(shells, shells[1:]))
    for r in rows[1:]:
        assert r["cu_balance_error [-]"] < 1e-9 and r["cd_balance_error [-]"] < 1e-7
        assert r["cu_inflow_formula_deviation [-]"] < 1e-6
        assert r["current [A]"] == 0.0
    assert rows[-1]["cd_balance_error [-]"] < 1e-9


def test_eels_map_of_the_sphere_is_core_at_shell(sphere_run):
    """ecx-device eels on the run: Pb (host) in the middle of the projection, none in the
    outermost columns, which show Cd (the shell) only."""
    from ecx_device.outputs.eels import eels_for_run

    out, _ = sphere_run
    files = eels_for_run(out, None, "x", 0.2)
    data = np.load(next(f for f in files if f.suffix == ".npz"))
    pb, cd = data["Pb"], data["Cd"]
    h, v = np.meshgrid(data["horizontal_nm"], data["vertical_nm"])
    rho = np.hypot(h, v)
    centre, rim = rho < 0.5, (rho > 3.3) & (rho < 3.9)
    assert pb[centre].mean() > 0.3 * pb.max() and cd[rim].mean() > 0
    assert pb[rim].mean() < 0.02 * pb[centre].mean()

"""Fermi-Dirac statistics in Blakemore's form (model.md 3.3), F_1/2(eta) ~ 1/(exp(-eta) + 0.27).

- Non-degenerate: the silicon Schottky diode of test_schottky.py (N_D = 1e16 cm^-3 against
  N_c = 2.8e19 cm^-3, eta = -7.9 in the bulk, lower in the depletion layer that sets the
  current): the occupancy differs from Boltzmann by at most 0.27 exp(eta) = 1e-4, so the currents
  must agree to 1e-3; they must also differ (measured 8.6e-8 at 0.1 V), or the option did nothing.
- Degenerate: a uniform p-Cu2S resistor (materials database, acceptor density lowered to
  5e19 cm^-3 = 2.0 N_v, inside the Blakemore range 3.7 N_v) at zero bias with ohmic contacts: the
  neutral hole density is N_A and the Fermi level from the band-diagram output satisfies
  N_v / (exp(-eta_p) + 0.27) = N_A, eta_p = (E_v - E_F)/kT (1e-6), i.e. E_F sits 37.8 meV below E_v
  where Boltzmann statistics puts it at 17.8 meV.
- Beyond the Blakemore range (the database's 1e20 cm^-3 = 4.0 N_v) a run is refused with the case
  key named.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from conftest import box_domain
from ecx_device import geometry as geo
from ecx_device.coupling import CoupledProblem
from ecx_device.errors import CaseError
from ecx_device.materials import load_material
from ecx_device.physics.base import Context
from ecx_device.physics.carriers import DriftDiffusion
from ecx_device.physics.contacts import OhmicContact, SchottkyContact
from ecx_device.physics.poisson import Poisson
from ecx_device.physics.semiconductor_scaling import interpolate_expression
from ecx_device.physics.wire_semiconductor import check_statistics, semiconductor_parameters
from ecx_device.stepping import continue_bias
from test_barrier_lowering import BARRIER, _silicon

SOLVER = {"snes_rtol": 0.0}


def _schottky_current(statistics: str, V: float) -> float:
    par = dataclasses.replace(_silicon(1e22), statistics=statistics)
    d = box_domain(1000, "1d", 1000.0)
    ctx = Context.create(d, {})
    modules = [Poisson(par), DriftDiffusion(par), SchottkyContact(par, geo.Facet.CU_SINK, BARRIER),
               OhmicContact(par, geo.Facet.W_SINK)]
    prob = CoupledProblem(ctx, modules, degree=1, petsc_options=SOLVER)
    assert prob.solve().converged
    continue_bias(prob, V, max_step=0.05, min_step=1e-3)
    return prob.quantities()["cathode_current [A]"]


def test_non_degenerate_limit_is_boltzmann():
    for V in (0.1, 0.2):
        fd, bz = _schottky_current("fermi_dirac", V), _schottky_current("boltzmann", V)
        print(f"V={V}: FD {fd:.6e} A, Boltzmann {bz:.6e} A, rel. diff {fd / bz - 1:+.2e}")
        assert fd == pytest.approx(bz, rel=1e-3)
        assert abs(fd / bz - 1) > 1e-9


def test_degenerate_cu2s_neutral_density():
    cu2s = semiconductor_parameters(load_material("Cu2S"), 300.0)
    n_a = 5e25  # m^-3 (5e19 cm^-3)
    par = dataclasses.replace(cu2s, acceptors=n_a, statistics="fermi_dirac")
    d = box_domain(200, "1d", 100.0)
    ctx = Context.create(d, {})
    poisson = Poisson(par)
    modules = [poisson, DriftDiffusion(par), OhmicContact(par, geo.Facet.CU_SINK),
               OhmicContact(par, geo.Facet.W_SINK)]
    prob = CoupledProblem(ctx, modules, degree=1, petsc_options=SOLVER)
    assert prob.solve().converged
    V = ctx.fields["psi"].function_space
    p = interpolate_expression(
        poisson.derived_fields(ctx)["hole_density [m^-3]"][geo.Region.WIRE], V)
    e_v = interpolate_expression(poisson.point_fields(ctx)["valence_band_edge [eV]"], V)
    vt = par.thermal_voltage
    mid = len(p) // 2
    eta_p = e_v[mid] / vt  # (E_v - E_F)/kT with E_F = 0
    blakemore = par.N_v / (math.exp(-eta_p) + 0.27)
    print(f"p = {p[mid]:.6e} m^-3, E_v - E_F = {e_v[mid] * 1e3:.3f} meV, "
          f"Blakemore N_v F(eta) = {blakemore:.6e}, Boltzmann E_v - E_F = "
          f"{vt * math.log(n_a / par.N_v) * 1e3:.3f} meV")
    assert p.min() == pytest.approx(n_a, rel=1e-6)
    assert p.max() == pytest.approx(n_a, rel=1e-6)
    assert blakemore == pytest.approx(n_a, rel=1e-6)
    assert e_v[mid] - vt * math.log(n_a / par.N_v) > 0.015  # 20 meV deeper than Boltzmann


def test_beyond_blakemore_range_is_refused():
    mat = load_material("Cu2S")
    par = dataclasses.replace(semiconductor_parameters(mat, 300.0), statistics="fermi_dirac")
    with pytest.raises(CaseError, match=r"electrical.statistics = fermi_dirac: Cu2S "
                                        r"acceptor_density 1e\+20 cm\^-3 exceeds"):
        check_statistics(par, mat)
    check_statistics(dataclasses.replace(par, statistics="boltzmann"), mat)  # no error
